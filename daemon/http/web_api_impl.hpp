#pragma once
// WebApi's insides, shared by its two sources: web_api.cpp (setup, timers, the request path,
// sessions) and web_api_handlers.cpp (orders, attachments, alarms, readings, reports, the
// `floorwatch user` control commands). Internal to daemon/http.

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "daemon/http/api_reads.hpp"
#include "daemon/http/event_hub.hpp"
#include "daemon/http/login_throttle.hpp"
#include "daemon/http/multipart.hpp"
#include "daemon/http/passwords.hpp"
#include "daemon/http/request_parts.hpp"
#include "daemon/http/router.hpp"
#include "daemon/http/sessions.hpp"
#include "daemon/http/static_files.hpp"
#include "daemon/http/web_api.hpp"
#include "daemon/http/web_store.hpp"
#include "daemon/http/work_pool.hpp"
#include "daemon/orders/attachments.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/uploads.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::http::web {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

inline constexpr std::string_view kInstance = "http";
inline constexpr std::size_t kReadWorkers = 2;
inline constexpr std::size_t kReadQueue = 64;
inline constexpr std::size_t kPasswordQueue = 16;
// A request without a body of its own (a GET, a login) never needs more.
inline constexpr std::uint64_t kSmallBodyLimit = std::uint64_t{64} * 1024;
inline constexpr auto kSweepInterval = 60s;
inline constexpr auto kChangeInterval = 1s;
inline constexpr std::int64_t kReadingsNoticeIntervalMs = 10'000;

inline Response json_response(unsigned status, const json::value& body) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, "application/json");
    response.set(bhttp::field::cache_control, "no-store");
    response.body() = json::serialize(body);
    return response;
}

inline Response text_response(unsigned status, std::string_view content_type, std::string body) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, content_type);
    response.set(bhttp::field::cache_control, "no-store");
    response.body() = std::move(body);
    return response;
}

// How a refusal from the command table reads as HTTP: a role that may not (403), an order or
// alarm that is not there (404), the daemon going down (503), else the workflow said no (409).
inline unsigned refusal_status(std::string_view message) {
    const bool wrong_level = message.find(" needs a ") != std::string_view::npos &&
                             message.find(" approval (") != std::string_view::npos;
    if (wrong_level || message.find(" may not ") != std::string_view::npos ||
        message.find("not in workflow.users") != std::string_view::npos ||
        message.find("only supervisors") != std::string_view::npos) {
        return 403;
    }
    if (message.starts_with("no such") || message.starts_with("unknown alarm") ||
        message.find("no alarm") != std::string_view::npos) {
        return 404;
    }
    if (message.find("stopping") != std::string_view::npos) return 503;
    return 409;
}

inline unsigned upload_refusal_status(std::string_view message) {
    if (message.find(" bytes;") != std::string_view::npos) return 413;
    if (message.find("accepted types") != std::string_view::npos) return 415;
    return refusal_status(message);
}

inline std::string query_value(const Target& target, std::string_view key) {
    const auto it = target.query.find(key);
    return it == target.query.end() ? std::string() : it->second;
}

inline bool is_sha256(std::string_view text) {
    return text.size() == 64 && std::ranges::all_of(text, [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// A file name safe inside Content-Disposition's quotes.
inline std::string disposition_name(std::string_view name) {
    std::string safe;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        safe += (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\' || c == ';') ? '_' : c;
    }
    return safe.empty() ? "attachment" : safe;
}

// A JSON number as whole milliseconds (a browser may send 1.7e12 as a double).
inline std::optional<std::int64_t> whole_number(const json::value* value) {
    if (value == nullptr || !value->is_number()) return std::nullopt;
    if (value->is_int64()) return value->as_int64();
    if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
    return static_cast<std::int64_t>(value->as_double());
}

inline bool allowed_language(std::string_view language) {
    return std::ranges::find(kLanguages, language) != std::end(kLanguages);
}

}  // namespace fw::http::web

namespace fw::http {

using namespace web;

struct WebApi::Impl : std::enable_shared_from_this<Impl> {
    // One API request on its way through.
    struct Call {
        Incoming request;
        Responder responder;
        Target target;
        std::vector<std::string> params;
        const Session* session = nullptr;  // valid during the synchronous part only
        std::string user;                  // the signed-in user, when there is one
    };
    using Action = std::function<void(Impl&, Call&)>;
    struct Route {
        Action action;
        bool needs_session = true;
    };

    Impl(boost::asio::io_context& core_context, WebApiBackend api_backend, const Config& loaded,
         control::Server* control_server, WebApiHooks api_hooks)
        : core(core_context),
          backend(std::move(api_backend)),
          config(std::make_shared<const Config>(loaded)),
          control(control_server),
          hooks(std::move(api_hooks)),
          sessions(idle_lifetime(loaded)) {}

    static std::chrono::milliseconds idle_lifetime(const Config& loaded) {
        return loaded.http ? loaded.http->session_lifetime : HttpConfig{}.session_lifetime;
    }

    // ---- setup ----

    void register_commands();
    void build_routes();
    void start();
    void stop();

    // ---- timers ----

    void schedule_sweep();
    void schedule_change_watch();
    void publish_changes();

    // A store write whose outcome only needs logging (sessions, languages).
    void write(WebUserChange change);
    // A store write someone waits for: `then` runs on the core thread while this API lives, else
    // `if_gone`.
    void write(WebUserChange change, std::function<void(Impl&, const Status&)> then,
               std::function<void()> if_gone);

    // ---- requests ----

    std::uint64_t body_limit(const RequestHeader& header) const;
    void handle(Incoming request, Responder responder);
    bool origin_allowed(const Incoming& request) const;
    void handle_plain(const Incoming& request, const Responder& responder, const Target& target,
                      const std::vector<std::string>& segments);
    void metrics(const Responder& responder);

    // Runs `read` on the read pool with that worker's connections and sends its answer; 503 at
    // once when the pool is full, 500 with the reason when the read throws.
    template <typename Read>
    void read(const Responder& responder, Read job) {
        // `job(ReadSource&)`: the worker's own connections (api_reads.hpp).
        if (!reads) return responder.send(error_response(503, "the daemon is stopping"));
        const bool queued = reads->try_submit([self = shared_from_this(), responder,
                                               job = std::move(job)](std::size_t worker) {
            try {
                responder.send(job(*self->connections[worker]));
            } catch (const std::exception& error) {
                log_error(kInstance, "read failed: {}", error.what());
                responder.send(error_response(500, fmt::format("read failed: {}", error.what())));
            }
        });
        if (!queued) responder.send(error_response(503, "busy; try again in a moment"));
    }

    std::optional<json::object> body_object(Call& call);

    // Sends `command` through the control table as the signed-in user; the reply (after the
    // action is durable) becomes the answer, `shape` turning an ok result into the body.
    void dispatch(Call& call, const std::string& command, const json::object& args,
                  std::function<json::value(json::value)> shape = {},
                  unsigned (*refusal)(std::string_view) = refusal_status);

    // ---- session ----

    json::object session_json(const std::string& user, const std::string& csrf) const;
    std::string default_language() const;
    std::string language_of(const std::string& user) const;
    void get_session(Call& call);
    void post_login(Call& call);
    void finish_login(const Responder& responder, const std::string& user,
                      const std::string& address, bool secure, bool ok);
    void post_logout(Call& call);
    void put_language(Call& call);
    void get_users(Call& call);

    // ---- orders ----

    void get_orders(Call& call);
    void get_order(Call& call);
    void post_action(Call& call);
    void post_report(Call& call);

    // ---- attachments ----

    void post_attachment(Call& call);
    void send_chunk(const Responder& responder, const std::string& user,
                    const std::shared_ptr<const std::string>& bytes, const std::string& name,
                    std::size_t offset, const std::string& upload_id);
    void get_attachment(Call& call);

    // ---- alarms ----

    void get_alarms(Call& call);
    void get_alarm_history(Call& call);
    void post_alarm_action(Call& call);

    // ---- readings ----

    void get_channels(Call& call);
    void get_samples(Call& call);
    void get_devices(Call& call);

    // ---- KPIs and reports ----

    void get_kpi(Call& call);
    void get_weekly(Call& call);
    void get_sync(Call& call);
    void get_stream(Call& call);

    // ---- control commands: floorwatch user ... ----

    // uid 0 and admins may act on anyone; everyone else only on themself.
    bool may_manage(const control::Caller& caller, const std::string& user, std::string& who) const;
    void on_passwd(const control::Caller& caller, const json::object& args, control::Reply reply);
    void on_sessions(const control::Caller& caller, const json::object&, control::Reply reply);
    void on_revoke(const control::Caller& caller, const json::object& args, control::Reply reply);
    boost::asio::io_context& core;
    WebApiBackend backend;
    std::shared_ptr<const Config> config;
    control::Server* control;
    WebApiHooks hooks;
    Router<Route> router;
    SessionTable sessions;
    LoginThrottle throttle;
    std::map<std::string, Credential, std::less<>> credentials;
    EventHub hub;
    std::vector<std::unique_ptr<ReadSource>> connections;
    std::unique_ptr<WorkPool> reads;
    std::unique_ptr<WorkPool> passwords;
    boost::asio::steady_timer sweep_timer{core};
    boost::asio::steady_timer change_timer{core};
    ChangeCounters last_changes;
    std::int64_t last_readings_notice_ms = 0;
    std::size_t writes_pending = 0;
};

}  // namespace fw::http
