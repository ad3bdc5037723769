#pragma once
// What the config framework reports: one issue per problem, located in the file and in the
// document, and the exception that carries every issue of a file at once.

#include <stdexcept>
#include <string>
#include <vector>

namespace fw {

// One problem found in a config file, located in the file and in the document.
struct ConfigIssue {
    std::string file;
    int line = 0;      // 1-based; 0 when unknown (e.g. file unreadable)
    int column = 0;    // 1-based
    std::string path;  // "modbus.buses[0].devices[2].points[1].type"
    std::string message;

    // "floorwatch.yaml:14:7: modbus.buses[0].devices[2].points[1].type: unknown type 'flaot32'
    // (expected int16, ...)"
    std::string to_string() const;
};

// Thrown by the loaders with every issue found, not just the first.
class ConfigError : public std::runtime_error {
  public:
    explicit ConfigError(std::vector<ConfigIssue> issues);
    const std::vector<ConfigIssue>& issues() const { return issues_; }

  private:
    std::vector<ConfigIssue> issues_;
};

}  // namespace fw
