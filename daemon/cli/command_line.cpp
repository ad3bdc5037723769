#include "daemon/cli/command_line.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <iostream>
#include <vector>

namespace fw::cli {
namespace {

std::string subcommand_names(const CLI::App& command) {
    std::string names;
    for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; })) {
        names += names.empty() ? "" : ", ";
        names += sub->get_name();
    }
    return names;
}

// The problem in the words of the old hand-written parser, which people and scripts know, rather
// than CLI11's ("The following argument was not expected: ...").
std::string describe(const CLI::ParseError& error, CLI::App& root, const CLI::App& command) {
    std::string message = error.what();
    // CLI11 checks for a missing subcommand before it looks at the words it did not take, which
    // usually are the misspelt subcommand.
    const bool no_subcommand = dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
                               message == "A subcommand is required";
    if (no_subcommand || dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
        const auto extras = root.remaining(true);
        if (!extras.empty()) {
            const std::string& extra = extras.front();
            const bool option =
                extra.size() > 1 && extra[0] == '-' && !(extra[1] >= '0' && extra[1] <= '9');
            if (option) return fmt::format("unknown option '{}'", extra);
            const std::string names = subcommand_names(command);
            if (names.empty()) return fmt::format("unexpected argument '{}'", extra);
            if (&command == &root) return fmt::format("unknown command '{}'", extra);
            return fmt::format("unknown '{} {}' ({})", command.get_name(), extra, names);
        }
        if (no_subcommand) {
            return fmt::format("'{}' needs one of: {}", command.get_name(),
                               subcommand_names(command));
        }
        return message;
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr &&
        message.ends_with(" missing")) {
        return fmt::format("option '{}' needs a value", message.substr(0, message.find(':')));
    }
    return message;
}

}  // namespace

std::optional<int> parse_command_line(CLI::App& root, int argc, const char* const* argv) {
    try {
        root.parse(argc, argv);
        return std::nullopt;
    } catch (const CLI::CallForHelp&) {
        std::cout << root.help();  // the help of the subcommand that was asked
        return 0;
    } catch (const CLI::CallForVersion& version) {
        std::cout << root.get_name() << ' ' << version.what() << '\n';
        return 0;
    } catch (const CLI::ParseError& error) {
        CLI::App& command = selected_command(root);
        return report_usage_error(command, describe(error, root, command));
    }
}

CLI::App& selected_command(CLI::App& root) {
    CLI::App* command = &root;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    return *command;
}

std::string command_path(const CLI::App& command) {
    const CLI::App* parent = command.get_parent();
    if (parent == nullptr) return command.get_name();
    return command_path(*parent) + " " + command.get_name();
}

int report_usage_error(const CLI::App& command, std::string_view problem) {
    const CLI::App* program = &command;
    while (program->get_parent() != nullptr) program = program->get_parent();
    std::cerr << fmt::format("{}: {}; run '{} --help'\n", program->get_name(), problem,
                             command_path(command));
    return kExitUsage;
}

std::optional<std::size_t> parse_positive_count(std::string_view text) {
    std::size_t value = 0;
    const char* end = text.data() + text.size();
    // from_chars takes no sign, no blank and no base prefix; a '-' is refused, not wrapped.
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end || value == 0) return std::nullopt;
    return value;
}

std::optional<double> parse_positive_number(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end || !std::isfinite(value) ||
        value <= 0) {
        return std::nullopt;
    }
    return value;
}

CLI::Validator positive_count() {
    return CLI::Validator(
        [](const std::string& text) {
            return parse_positive_count(text)
                       ? std::string()
                       : fmt::format("expected a positive whole number, got '{}'", text);
        },
        "");
}

CLI::Validator positive_number() {
    return CLI::Validator(
        [](const std::string& text) {
            return parse_positive_number(text)
                       ? std::string()
                       : fmt::format("expected a number above 0, got '{}'", text);
        },
        "");
}

}  // namespace fw::cli
