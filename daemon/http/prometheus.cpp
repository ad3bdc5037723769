#include "daemon/http/prometheus.hpp"

#include <fmt/format.h>

#include <cmath>

namespace fw::http {

std::string escape_label_value(std::string_view value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') {
            escaped += "\\\\";
        } else if (c == '"') {
            escaped += "\\\"";
        } else if (c == '\n') {
            escaped += "\\n";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    std::string escaped_help;
    for (const char c : help) {
        if (c == '\\') {
            escaped_help += "\\\\";
        } else if (c == '\n') {
            escaped_help += "\\n";
        } else {
            escaped_help += c;
        }
    }
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escaped_help, name, type);
}

void PrometheusText::write_labels(const Label* begin, const Label* end) {
    if (begin == end) return;
    text_ += '{';
    for (const Label* label = begin; label != end; ++label) {
        if (label != begin) text_ += ',';
        text_ += label->first;
        text_ += "=\"";
        text_ += escape_label_value(label->second);
        text_ += '"';
    }
    text_ += '}';
}

void PrometheusText::write_value(double value) {
    if (std::isnan(value)) {
        text_ += "NaN";
    } else if (std::isinf(value)) {
        text_ += value > 0 ? "+Inf" : "-Inf";
    } else {
        text_ += fmt::format("{}", value);
    }
}

void PrometheusText::sample(std::string_view name, double value,
                            std::initializer_list<Label> labels) {
    text_ += name;
    write_labels(labels.begin(), labels.end());
    text_ += ' ';
    write_value(value);
    text_ += '\n';
}

void PrometheusText::sample(std::string_view name, std::uint64_t value,
                            std::initializer_list<Label> labels) {
    text_ += name;
    write_labels(labels.begin(), labels.end());
    text_ += fmt::format(" {}\n", value);
}

void PrometheusText::sample(std::string_view name, const std::vector<Label>& labels, double value) {
    text_ += name;
    write_labels(labels.data(), labels.data() + labels.size());
    text_ += ' ';
    write_value(value);
    text_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const LatencyHistogram::Snapshot& snapshot) {
    family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i < LatencyHistogram::kBoundsMicros.size(); ++i) {
        const std::string bound = fmt::format(
            "{}", static_cast<double>(LatencyHistogram::kBoundsMicros[i]) / 1'000'000.0);
        sample(bucket, snapshot.cumulative[i], {{"le", bound}});
    }
    sample(bucket, snapshot.count, {{"le", "+Inf"}});
    sample(std::string(name) + "_sum", snapshot.sum_seconds);
    sample(std::string(name) + "_count", snapshot.count);
}

}  // namespace fw::http
