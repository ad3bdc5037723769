#include "daemon/config/option_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace fw::config_table {

const std::string_view kDurationPattern = "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+) *(ms|s|m|h|d)$";
const std::string_view kSizePattern =
    "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+) *(B|KiB|MiB|GiB|TiB|kB|MB|GB|TB)?$";

namespace {

std::string describe_node(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return fmt::format("'{}'", node.Scalar());
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            break;
    }
    return "nothing";
}

std::string_view kind_phrase(OptionKind kind) {
    switch (kind) {
        case OptionKind::string:
            return "a text value";
        case OptionKind::integer:
            return "an integer";
        case OptionKind::number:
            return "a number";
        case OptionKind::boolean:
            return "true or false";
        case OptionKind::duration:
            return "a duration such as 250ms, 30s or 7d";
        case OptionKind::size:
            return "a size such as 512MiB";
        case OptionKind::enumeration:
            return "a name";
        case OptionKind::list:
            return "a list";
        case OptionKind::map:
            return "a map";
    }
    return "a value";
}

// yaml-cpp tags quoted scalars "!"; YAML (and the JSON Schema validators that read it) treat
// them as text, so "502" must not pass as a number here either.
bool is_quoted(const YAML::Node& node) {
    return node.Tag() == "!";
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return negative ? -value : value;
}

std::optional<double> parse_number(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::optional<bool> parse_boolean(std::string text) {
    std::ranges::transform(text, text.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    return std::nullopt;
}

std::string format_limit(OptionKind kind, std::int64_t limit) {
    if (kind == OptionKind::duration) return format_duration(Millis(limit));
    if (kind == OptionKind::size) return format_size(static_cast<std::uint64_t>(limit));
    return std::to_string(limit);
}

// "must be between 10ms and 10s" / "must be at least 1m"; empty when the value fits.
std::string range_violation(const OptionShape& shape, long double value) {
    const bool too_low = shape.minimum && value < static_cast<long double>(*shape.minimum);
    const bool too_high = shape.maximum && value > static_cast<long double>(*shape.maximum);
    if (!too_low && !too_high) return {};
    if (shape.minimum && shape.maximum) {
        return fmt::format("must be between {} and {}", format_limit(shape.kind, *shape.minimum),
                           format_limit(shape.kind, *shape.maximum));
    }
    if (too_low)
        return fmt::format("must be at least {}", format_limit(shape.kind, *shape.minimum));
    return fmt::format("must be at most {}", format_limit(shape.kind, *shape.maximum));
}

std::string unknown_key_message(std::string_view key, const SectionShape& shape) {
    const OptionShape* closest = nullptr;
    std::size_t closest_distance = 0;
    for (const auto& option : shape.options) {
        const std::size_t distance = edit_distance(key, option.key);
        if (!closest || distance < closest_distance) {
            closest = &option;
            closest_distance = distance;
        }
    }
    // Close enough to be a typo: at most two edits, and a third of the longer name at most.
    if (closest && closest_distance <= 2 &&
        closest_distance * 3 <= std::max(key.size(), closest->key.size())) {
        return fmt::format("unknown key '{}' (did you mean '{}'?)", key, closest->key);
    }
    return fmt::format("unknown key '{}' (allowed: {})", key, fmt::join(shape.keys(), ", "));
}

}  // namespace

std::vector<std::string> SectionShape::keys() const {
    std::vector<std::string> result;
    result.reserve(options.size());
    for (const auto& option : options) result.push_back(option.key);
    return result;
}

std::optional<YAML::Mark> Reader::mark_of(std::string path) const {
    while (true) {
        if (const auto found = marks_.find(path); found != marks_.end()) return found->second;
        if (path.empty()) return std::nullopt;
        const auto cut = path.find_last_of(".[");
        path.resize(cut == std::string::npos ? 0 : cut);
    }
}

void Reader::issue(const YAML::Mark& mark, const std::string& path, std::string message) {
    ConfigIssue issue;
    issue.file = file_;
    if (mark.line >= 0 && mark.column >= 0) {
        issue.line = mark.line + 1;
        issue.column = mark.column + 1;
    }
    issue.path = path;
    issue.message = std::move(message);
    issues_.push_back(std::move(issue));
    failed_paths_.insert(path);
}

void Reader::issue(const std::string& path, std::string message) {
    const auto mark = mark_of(path);
    issue(mark.value_or(YAML::Mark::null_mark()), path, std::move(message));
}

void Reader::issue_without_position(std::string message) {
    issue(YAML::Mark::null_mark(), "", std::move(message));
}

std::vector<ConfigIssue> Reader::take_issues() {
    std::ranges::stable_sort(issues_, [](const ConfigIssue& a, const ConfigIssue& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    return std::move(issues_);
}

void report_repeats(const std::vector<NamedAt>& names, std::string_view what, Reader& reader) {
    std::map<std::string, const NamedAt*, std::less<>> first_by_value;
    for (const auto& name : names) {
        if (name.value.empty() || reader.failed(name.path)) continue;
        const auto [first, inserted] = first_by_value.emplace(name.value, &name);
        if (inserted) continue;
        const auto mark = reader.mark_of(first->second->path);
        reader.issue(name.path,
                     fmt::format("duplicate {} '{}' (first at {}, line {})", what, name.value,
                                 first->second->path, mark ? mark->line + 1 : 0));
    }
}

std::string join_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    return fmt::format("{}.{}", parent, key);
}

std::string index_path(const std::string& parent, std::size_t index) {
    return fmt::format("{}[{}]", parent, index);
}

std::optional<ScalarValue> read_scalar(const OptionShape& shape, const YAML::Node& node,
                                       const std::string& path, Reader& reader) {
    if (!node.IsScalar()) {
        reader.issue(
            path, fmt::format("expected {}, got {}", kind_phrase(shape.kind), describe_node(node)));
        return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const auto reject_quoted = [&]() -> std::nullopt_t {
        reader.issue(path, fmt::format("expected {}, got the quoted text '{}' (remove the quotes)",
                                       kind_phrase(shape.kind), text));
        return std::nullopt;
    };
    const auto reject_kind = [&]() -> std::nullopt_t {
        reader.issue(path, fmt::format("expected {}, got '{}'", kind_phrase(shape.kind), text));
        return std::nullopt;
    };
    const auto check_range = [&](long double value) {
        const auto violation = range_violation(shape, value);
        if (violation.empty()) return true;
        reader.issue(path, fmt::format("{}, got {}", violation, text));
        return false;
    };

    switch (shape.kind) {
        case OptionKind::string: {
            if (text.size() < shape.min_length) {
                reader.issue(path, "must not be empty");
            } else if (!shape.pattern.empty() && !matches_pattern(text, shape.pattern)) {
                reader.issue(path, fmt::format("must be {}, got '{}'", shape.pattern_hint, text));
            }
            return text;
        }
        case OptionKind::integer: {
            if (is_quoted(node)) return reject_quoted();
            const auto value = parse_integer(text);
            if (!value) return reject_kind();
            if (!shape.integer_choices.empty()) {
                if (std::ranges::find(shape.integer_choices, *value) ==
                    shape.integer_choices.end()) {
                    reader.issue(path, fmt::format("must be one of {}, got {}",
                                                   fmt::join(shape.integer_choices, ", "), text));
                    return std::nullopt;
                }
            } else if (!check_range(static_cast<long double>(*value))) {
                return std::nullopt;
            }
            return *value;
        }
        case OptionKind::number: {
            if (is_quoted(node)) return reject_quoted();
            const auto value = parse_number(text);
            if (!value) return reject_kind();
            if (shape.nonzero && *value == 0.0) {
                reader.issue(path, "must not be 0");
                return std::nullopt;
            }
            if (!check_range(static_cast<long double>(*value))) return std::nullopt;
            return *value;
        }
        case OptionKind::boolean: {
            if (is_quoted(node)) return reject_quoted();
            const auto value = parse_boolean(text);
            if (!value) return reject_kind();
            return *value;
        }
        case OptionKind::duration: {
            const auto value = parse_duration(text);
            if (!value) return reject_kind();
            if (!check_range(static_cast<long double>(value->count()))) return std::nullopt;
            return *value;
        }
        case OptionKind::size: {
            const auto value = parse_size(text);
            if (!value) return reject_kind();
            if (!check_range(static_cast<long double>(*value))) return std::nullopt;
            return *value;
        }
        case OptionKind::enumeration: {
            if (std::ranges::find(shape.names, text) == shape.names.end()) {
                reader.issue(path, fmt::format("unknown {} '{}' (expected {})",
                                               shape.noun.empty() ? shape.key : shape.noun, text,
                                               fmt::join(shape.names, ", ")));
                return std::nullopt;
            }
            return text;
        }
        case OptionKind::list:
        case OptionKind::map:
            break;
    }
    return reject_kind();
}

std::optional<std::vector<std::optional<YAML::Node>>> match_keys(const SectionShape& shape,
                                                                 const YAML::Node& node,
                                                                 const std::string& path,
                                                                 Reader& reader) {
    if (!reader.present(path)) reader.visit(path, node.Mark());
    if (!node.IsMap()) {
        reader.issue(path, fmt::format("expected a map, got {}", describe_node(node)));
        return std::nullopt;
    }
    std::vector<std::optional<YAML::Node>> values(shape.options.size());
    std::map<std::string, YAML::Mark, std::less<>> seen;
    for (auto entry = node.begin(); entry != node.end(); ++entry) {
        const YAML::Node key = entry->first;
        if (!key.IsScalar()) {
            reader.issue(key.Mark(), path, "keys must be plain names, not lists or maps");
            continue;
        }
        const std::string& name = key.Scalar();
        const std::string key_path = join_path(path, name);
        if (const auto first = seen.find(name); first != seen.end()) {
            // yaml-cpp keeps both entries and other YAML readers silently keep the last one, so a
            // repeated key would otherwise mean different things to different tools.
            reader.issue(key.Mark(), key_path,
                         fmt::format("duplicate key '{}' (first at line {}, column {})", name,
                                     first->second.line + 1, first->second.column + 1));
            continue;
        }
        seen.emplace(name, key.Mark());
        const auto option = std::ranges::find(shape.options, name, &OptionShape::key);
        if (option == shape.options.end()) {
            reader.issue(key.Mark(), key_path, unknown_key_message(name, shape));
            continue;
        }
        const YAML::Node value = entry->second;
        // An empty value has no position of its own (yaml-cpp gives the next token's), so point
        // at its key.
        reader.visit(key_path, value.IsNull() ? key.Mark() : value.Mark());
        values[static_cast<std::size_t>(option - shape.options.begin())] = value;
    }
    for (const auto& option : shape.options) {
        if (option.required && !seen.contains(option.key)) {
            reader.issue(path, fmt::format("missing required key '{}'", option.key));
        }
    }
    return values;
}

bool expect_list(const OptionShape& shape, const YAML::Node& node, const std::string& path,
                 Reader& reader) {
    if (!node.IsSequence()) {
        reader.issue(path, fmt::format("expected a list, got {}", describe_node(node)));
        return false;
    }
    if (node.size() < shape.min_items) {
        reader.issue(path, fmt::format("needs at least {} {}, got {}", shape.min_items,
                                       shape.min_items == 1 ? "entry" : "entries", node.size()));
        return false;
    }
    return true;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment: a swap of two neighbours ("hsot") counts as one edit.
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::string json_string(std::string_view text) {
    return boost::json::serialize(boost::json::value(boost::json::string_view(text)));
}

std::string json_number(double value) {
    return fmt::format("{}", value);
}

namespace {

namespace json = boost::json;

std::string range_sentence(const OptionShape& shape) {
    if (shape.kind != OptionKind::duration && shape.kind != OptionKind::size) return {};
    const bool has_minimum = shape.minimum && *shape.minimum > 0;
    if (has_minimum && shape.maximum) {
        return fmt::format(" Range: {} to {}.", format_limit(shape.kind, *shape.minimum),
                           format_limit(shape.kind, *shape.maximum));
    }
    if (has_minimum) return fmt::format(" At least {}.", format_limit(shape.kind, *shape.minimum));
    if (shape.maximum) return fmt::format(" At most {}.", format_limit(shape.kind, *shape.maximum));
    return {};
}

json::object section_schema(const SectionShape& section);

json::object option_schema(const OptionShape& option) {
    json::object schema;
    schema["description"] = option.description + range_sentence(option);
    switch (option.kind) {
        case OptionKind::string:
            schema["type"] = "string";
            if (option.min_length > 0) schema["minLength"] = option.min_length;
            if (!option.pattern.empty()) schema["pattern"] = option.pattern;
            break;
        case OptionKind::integer:
            schema["type"] = "integer";
            if (!option.integer_choices.empty()) {
                schema["enum"] = json::value_from(option.integer_choices);
            } else {
                if (option.minimum) schema["minimum"] = *option.minimum;
                if (option.maximum) schema["maximum"] = *option.maximum;
            }
            break;
        case OptionKind::number:
            schema["type"] = "number";
            if (option.nonzero) schema["not"] = {{"const", 0}};
            break;
        case OptionKind::boolean:
            schema["type"] = "boolean";
            break;
        case OptionKind::duration:
            schema["type"] = "string";
            schema["pattern"] = kDurationPattern;
            break;
        case OptionKind::size:
            // A plain number is a count of bytes; YAML reads it as an integer.
            schema["type"] = json::array{"integer", "string"};
            schema["pattern"] = kSizePattern;
            if (option.minimum && *option.minimum > 0) schema["minimum"] = *option.minimum;
            break;
        case OptionKind::enumeration:
            schema["type"] = "string";
            schema["enum"] = json::value_from(option.names);
            break;
        case OptionKind::map:
            for (auto& [key, value] : section_schema(*option.section)) schema[key] = value;
            break;
        case OptionKind::list:
            schema["type"] = "array";
            if (option.min_items > 0) schema["minItems"] = option.min_items;
            if (option.section) {
                schema["items"] = section_schema(*option.section);
            } else {
                json::object item{{"type", "string"}};
                if (!option.pattern.empty()) item["pattern"] = option.pattern;
                schema["items"] = std::move(item);
            }
            break;
    }
    if (option.default_json) schema["default"] = json::parse(*option.default_json);
    return schema;
}

json::object section_schema(const SectionShape& section) {
    json::object schema;
    schema["type"] = "object";
    schema["additionalProperties"] = false;
    json::array required;
    for (const auto& option : section.options) {
        if (option.required) required.emplace_back(option.key);
    }
    if (!required.empty()) schema["required"] = std::move(required);
    json::object properties;
    for (const auto& option : section.options) properties[option.key] = option_schema(option);
    schema["properties"] = std::move(properties);
    if (!section.schema_rules.empty()) {
        json::array rules;
        for (const auto& rule : section.schema_rules) rules.push_back(json::parse(rule));
        schema["allOf"] = std::move(rules);
    }
    return schema;
}

bool is_container(const json::value& value) {
    return value.is_object() || value.is_array();
}

void write_pretty(const json::value& value, std::size_t indent, std::string& out) {
    const std::string inner(indent + 2, ' ');
    const std::string outer(indent, ' ');
    if (value.is_object()) {
        const auto& object = value.get_object();
        if (object.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t written = 0;
        for (const auto& [key, member] : object) {
            out += inner + json_string(key) + ": ";
            write_pretty(member, indent + 2, out);
            out += ++written < object.size() ? ",\n" : "\n";
        }
        out += outer + "}";
    } else if (value.is_array()) {
        const auto& array = value.get_array();
        // Lists of plain values (enums, required keys) read best on one line.
        if (std::ranges::none_of(array, is_container)) {
            out += "[";
            for (std::size_t i = 0; i < array.size(); ++i) {
                if (i > 0) out += ", ";
                write_pretty(array[i], indent, out);
            }
            out += "]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < array.size(); ++i) {
            out += inner;
            write_pretty(array[i], indent + 2, out);
            out += i + 1 < array.size() ? ",\n" : "\n";
        }
        out += outer + "]";
    } else if (value.is_double()) {
        out += json_number(value.get_double());
    } else {
        out += json::serialize(value);
    }
}

}  // namespace

std::string json_schema(const SectionShape& root, std::string_view title,
                        std::string_view description) {
    json::object schema;
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
    schema["title"] = title;
    schema["description"] = description;
    for (auto& [key, value] : section_schema(root)) schema[key] = value;
    std::string out;
    write_pretty(schema, 0, out);
    out += "\n";
    return out;
}

}  // namespace fw::config_table

namespace fw {
namespace {

std::string join_issues(const std::vector<ConfigIssue>& issues) {
    std::string text;
    for (const auto& issue : issues) {
        if (!text.empty()) text += '\n';
        text += issue.to_string();
    }
    return text;
}

}  // namespace

std::string ConfigIssue::to_string() const {
    std::string text = line > 0 ? fmt::format("{}:{}:{}: ", file, line, column) : file + ": ";
    if (!path.empty()) text += path + ": ";
    return text + message;
}

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

}  // namespace fw
