#pragma once
// The Prometheus text exposition format (version 0.0.4), written by hand: about twenty families
// of counters and gauges and one histogram need a few dozen lines, where prometheus-cpp would
// add a registry, its own threads of ownership over every counter and a library to keep in the
// cross sysroots, for the same text.
//
//   # HELP floorwatch_samples_stored_total Samples committed to the store.
//   # TYPE floorwatch_samples_stored_total counter
//   floorwatch_samples_stored_total 12345
//   floorwatch_device_online{bus="line1",device="press-1"} 1

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/latency_histogram.hpp"

namespace fw::http {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
  public:
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

    // Starts a family: its HELP and TYPE lines ("counter", "gauge", "histogram").
    void family(std::string_view name, std::string_view type, std::string_view help);
    // One sample of the current family; `name` may carry a suffix (_bucket, _sum, _count).
    void sample(std::string_view name, double value, std::initializer_list<Label> labels = {});
    void sample(std::string_view name, std::uint64_t value,
                std::initializer_list<Label> labels = {});
    void sample(std::string_view name, const std::vector<Label>& labels, double value);
    // A whole histogram family in seconds from a LatencyHistogram.
    void histogram(std::string_view name, std::string_view help,
                   const LatencyHistogram::Snapshot& snapshot);

    const std::string& text() const { return text_; }

  private:
    void write_labels(const Label* begin, const Label* end);
    void write_value(double value);

    std::string text_;
};

// Label values escaped as the format wants: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace fw::http
