#include "daemon/cli/users.hpp"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "daemon/cli/command_line.hpp"
#include "daemon/cli/common.hpp"
#include "daemon/http/passwords.hpp"

namespace fw::cli {
namespace {

struct PasswdOptions : CommonOptions {
    std::string user;
    bool from_stdin = false;
};

struct RevokeOptions : CommonOptions {
    std::string user;
};

// Echo off while the person types, restored however the read ends.
class HiddenInput {
  public:
    HiddenInput() {
        if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~HiddenInput() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
    HiddenInput(const HiddenInput&) = delete;
    HiddenInput& operator=(const HiddenInput&) = delete;

  private:
    termios saved_{};
    bool active_ = false;
};

std::string prompt_hidden(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    std::string line;
    {
        HiddenInput hidden;
        if (!std::getline(std::cin, line)) throw std::runtime_error("no password given");
    }
    std::cerr << '\n';
    return line;
}

std::string read_password(const PasswdOptions& options) {
    if (options.from_stdin) {
        std::string line;
        if (!std::getline(std::cin, line)) throw std::runtime_error("no password on stdin");
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }
    if (::isatty(STDIN_FILENO) == 0) {
        throw UsageError("stdin is not a terminal; give --stdin to read the password from it");
    }
    std::string first = prompt_hidden(fmt::format("New password for {}: ", options.user));
    const std::string second = prompt_hidden("Again: ");
    if (first != second) throw std::runtime_error("the two passwords differ; nothing changed");
    return first;
}

int set_password(const PasswdOptions& options) {
    const std::string password = read_password(options);
    if (const auto problem = http::password_problem(password); !problem.empty()) {
        throw std::runtime_error(problem);
    }
    const auto result = call_daemon(
        options, "user.passwd",
        boost::json::object{{"user", options.user}, {"hash", http::hash_password(password)}});
    if (options.json) {
        std::cout << boost::json::serialize(result) << '\n';
    } else {
        std::cout << fmt::format("password of {} set; {} web session(s) ended\n", options.user,
                                 result.as_object().at("sessions_ended").to_number<std::int64_t>());
    }
    return 0;
}

int list_sessions(const CommonOptions& options) {
    const auto result = call_daemon(options, "user.sessions", {});
    if (options.json) {
        std::cout << boost::json::serialize(result) << '\n';
        return 0;
    }
    std::cout << fmt::format("{:<16} {:<40} {:<24} {}\n", "USER", "ADDRESS", "SIGNED IN (UTC)",
                             "LAST USED (UTC)");
    for (const auto& row : result.as_object().at("sessions").as_array()) {
        const auto& session = row.as_object();
        std::cout << fmt::format("{:<16} {:<40} {:<24} {}\n",
                                 boost::json::value_to<std::string>(session.at("user")),
                                 boost::json::value_to<std::string>(session.at("address")),
                                 format_time(session.at("created_ms").to_number<std::int64_t>()),
                                 format_time(session.at("last_seen_ms").to_number<std::int64_t>()));
    }
    return 0;
}

int revoke(const RevokeOptions& options) {
    const auto result = call_daemon(options, "user.revoke", {{"user", options.user}});
    if (options.json) {
        std::cout << boost::json::serialize(result) << '\n';
    } else {
        std::cout << fmt::format("{} web session(s) of {} ended\n",
                                 result.as_object().at("sessions_ended").to_number<std::int64_t>(),
                                 options.user);
    }
    return 0;
}

}  // namespace

void add_user_commands(CLI::App& root, CommandTable& commands) {
    CLI::App& user = *root.add_subcommand(
        "user", "web page passwords and sessions: passwd, sessions, revoke (asks the daemon)");
    user.require_subcommand(1);
    user.footer(
        "Users and their roles are workflow.users in the config; this sets what the web page\n"
        "needs on top. Setting a password ends the user's web sessions. admin users and root\n"
        "may act on anyone, everyone else on themself.");
    auto passwd =
        add_command(commands, user, "passwd",
                    "set a user's web page password (asked twice, not shown)", set_password);
    passwd.app.add_option("NAME", passwd.options.user, "the user, as in workflow.users")
        ->type_name("")
        ->required();
    passwd.app.add_flag("--stdin", passwd.options.from_stdin,
                        "read the password from the first line of stdin (scripts)");
    add_command(commands, user, "sessions", "live web sessions: who, from where, since when",
                list_sessions);
    auto revoke_command =
        add_command(commands, user, "revoke", "end every web session of a user", revoke);
    revoke_command.app.add_option("NAME", revoke_command.options.user, "the user")
        ->type_name("")
        ->required();
    user.group("Other");
}

}  // namespace fw::cli
