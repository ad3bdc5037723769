#include "daemon/http/web_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
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
#include "daemon/http/web_store.hpp"
#include "daemon/http/work_pool.hpp"
#include "daemon/orders/attachments.hpp"
#include "daemon/orders/control_commands.hpp"
#include "daemon/orders/uploads.hpp"
#include "daemon/store/post_when_durable.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::http {
namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::string_view kInstance = "http";
constexpr std::size_t kReadWorkers = 2;
constexpr std::size_t kReadQueue = 64;
constexpr std::size_t kPasswordQueue = 16;
// A request without a body of its own (a GET, a login) never needs more.
constexpr std::uint64_t kSmallBodyLimit = 64 * 1024;
constexpr auto kSweepInterval = 60s;
constexpr auto kChangeInterval = 1s;
constexpr std::int64_t kReadingsNoticeIntervalMs = 10'000;

Response json_response(unsigned status, const json::value& body) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, "application/json");
    response.set(bhttp::field::cache_control, "no-store");
    response.body() = json::serialize(body);
    return response;
}

Response text_response(unsigned status, std::string_view content_type, std::string body) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, content_type);
    response.set(bhttp::field::cache_control, "no-store");
    response.body() = std::move(body);
    return response;
}

// How a refusal from the command table reads as HTTP: a role that may not (403), an order or
// alarm that is not there (404), the daemon going down (503), else the workflow said no (409).
unsigned refusal_status(std::string_view message) {
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

unsigned upload_refusal_status(std::string_view message) {
    if (message.find(" bytes;") != std::string_view::npos) return 413;
    if (message.find("accepted types") != std::string_view::npos) return 415;
    return refusal_status(message);
}

std::string query_value(const Target& target, std::string_view key) {
    const auto it = target.query.find(key);
    return it == target.query.end() ? std::string() : it->second;
}

bool is_sha256(std::string_view text) {
    return text.size() == 64 && std::ranges::all_of(text, [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// A file name safe inside Content-Disposition's quotes.
std::string disposition_name(std::string_view name) {
    std::string safe;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        safe += (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\' || c == ';') ? '_' : c;
    }
    return safe.empty() ? "attachment" : safe;
}

// A JSON number as whole milliseconds (a browser may send 1.7e12 as a double).
std::optional<std::int64_t> whole_number(const json::value* value) {
    if (value == nullptr || !value->is_number()) return std::nullopt;
    if (value->is_int64()) return value->as_int64();
    if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
    return static_cast<std::int64_t>(value->as_double());
}

bool allowed_language(std::string_view language) {
    return std::ranges::find(kLanguages, language) != std::end(kLanguages);
}

}  // namespace

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

    Impl(boost::asio::io_context& core_context, store::Writer& store_writer, const Config& loaded,
         control::Server* control_server, WebApiHooks api_hooks)
        : core(core_context),
          writer(store_writer),
          config(std::make_shared<const Config>(loaded)),
          control(control_server),
          hooks(std::move(api_hooks)),
          sessions(idle_lifetime(loaded)) {}

    static std::chrono::milliseconds idle_lifetime(const Config& loaded) {
        return loaded.http ? loaded.http->session_lifetime : HttpConfig{}.session_lifetime;
    }

    // ---- setup ----

    void register_commands() {
        if (control == nullptr) return;
        const auto bind = [weak = weak_from_this()](auto method) {
            return [weak, method](const control::Caller& caller, const json::object& args,
                                  control::Reply reply) {
                if (auto self = weak.lock()) return ((*self).*method)(caller, args, reply);
                reply.error("daemon stopping");
            };
        };
        control->handle("user.passwd", bind(&Impl::on_passwd));
        control->handle("user.sessions", bind(&Impl::on_sessions));
        control->handle("user.revoke", bind(&Impl::on_revoke));
    }

    void build_routes() {
        using V = bhttp::verb;
        const auto add = [this](V verb, std::string_view pattern, Action action,
                                bool needs_session = true) {
            router.add(verb, pattern, Route{std::move(action), needs_session});
        };
        add(V::get, "/api/v1/session", &Impl::get_session, false);
        add(V::post, "/api/v1/login", &Impl::post_login, false);
        add(V::post, "/api/v1/logout", &Impl::post_logout);
        add(V::put, "/api/v1/session/language", &Impl::put_language);
        add(V::get, "/api/v1/users", &Impl::get_users);
        add(V::get, "/api/v1/orders", &Impl::get_orders);
        add(V::get, "/api/v1/orders/{id}", &Impl::get_order);
        add(V::post, "/api/v1/orders/{id}/actions", &Impl::post_action);
        add(V::post, "/api/v1/reports", &Impl::post_report);
        add(V::get, "/api/v1/reports/weekly", &Impl::get_weekly);
        add(V::post, "/api/v1/attachments", &Impl::post_attachment);
        add(V::get, "/api/v1/attachments/{sha256}", &Impl::get_attachment);
        add(V::get, "/api/v1/alarms", &Impl::get_alarms);
        add(V::get, "/api/v1/alarms/history", &Impl::get_alarm_history);
        add(V::post, "/api/v1/alarms/{rule}/{equipment}/{action}", &Impl::post_alarm_action);
        add(V::get, "/api/v1/channels", &Impl::get_channels);
        add(V::get, "/api/v1/channels/{name}/samples", &Impl::get_samples);
        add(V::get, "/api/v1/devices", &Impl::get_devices);
        add(V::get, "/api/v1/kpi", &Impl::get_kpi);
        add(V::get, "/api/v1/sync", &Impl::get_sync);
        add(V::get, "/api/v1/stream", &Impl::get_stream);
    }

    void start() {
        {
            auto connection =
                store::open_store_file(config->store.path, store::OpenMode::read_only, false);
            credentials = load_credentials(connection.get());
            sessions.load(load_sessions(connection.get()), wall_now_ms());
        }
        for (std::size_t i = 0; i < kReadWorkers; ++i) {
            connections.push_back(std::make_unique<ReadConnections>(config->store.path));
        }
        reads = std::make_unique<WorkPool>("http-read", kReadWorkers, kReadQueue);
        passwords = std::make_unique<WorkPool>("http-password", 1, kPasswordQueue);
        log_info(kInstance, "{} web user(s) with a password, {} live session(s)",
                 credentials.size(), sessions.live(wall_now_ms()).size());
        schedule_sweep();
        if (hooks.changes) {
            last_changes = hooks.changes();
            schedule_change_watch();
        }
    }

    void stop() {
        sweep_timer.cancel();
        change_timer.cancel();
        reads.reset();
        passwords.reset();
        hub = EventHub();
    }

    // ---- timers ----

    void schedule_sweep() {
        sweep_timer.expires_after(kSweepInterval);
        sweep_timer.async_wait([weak = weak_from_this()](const auto& error) {
            auto self = weak.lock();
            if (error || !self) return;
            auto ended = self->sessions.sweep(wall_now_ms());
            if (!ended.empty()) {
                self->write([ended](sqlite3* db) { delete_sessions(db, ended); });
            }
            self->schedule_sweep();
        });
    }

    void schedule_change_watch() {
        change_timer.expires_after(kChangeInterval);
        change_timer.async_wait([weak = weak_from_this()](const auto& error) {
            auto self = weak.lock();
            if (error || !self) return;
            self->publish_changes();
            self->schedule_change_watch();
        });
    }

    void publish_changes() {
        const auto now = hooks.changes();
        if (now.orders != last_changes.orders) hub.publish("orders");
        if (now.alarms != last_changes.alarms) hub.publish("alarms");
        const std::int64_t now_ms = wall_now_ms();
        const bool readings_moved = now.readings != last_changes.readings;
        if (readings_moved && now_ms - last_readings_notice_ms >= kReadingsNoticeIntervalMs) {
            hub.publish("readings");
            last_readings_notice_ms = now_ms;
            last_changes.readings = now.readings;
        }
        last_changes.orders = now.orders;
        last_changes.alarms = now.alarms;
    }

    // A store write whose outcome only needs logging (sessions, languages).
    void write(std::function<void(sqlite3*)> job) {
        ++writes_pending;
        store::post_when_durable(
            writer, core, weak_from_this(), std::move(job), [](Impl& self, const Status& written) {
                --self.writes_pending;
                if (!written) {
                    log_error(kInstance, "web session not stored: {}", written.error());
                }
            });
    }

    // ---- requests ----

    std::uint64_t body_limit(const RequestHeader& header) const {
        if (header.method() == bhttp::verb::post &&
            header.target().starts_with("/api/v1/attachments")) {
            const HttpConfig defaults;
            const HttpConfig& http = config->http ? *config->http : defaults;
            return http.body_limit(config->workflow.attachments.max_size);
        }
        return kSmallBodyLimit;
    }

    void handle(Incoming request, Responder responder) {
        const Target target = split_target(request.message.target());
        const auto segments = path_segments(target.path);
        if (!segments) return responder.send(error_response(404, "no such page"));
        const bool api = segments->size() >= 2 && (*segments)[0] == "api" && (*segments)[1] == "v1";
        if (!api) return handle_plain(request, responder, target, *segments);

        const auto match = router.match(request.message.method(), *segments);
        if (match.action == nullptr) {
            if (!match.allow.empty()) {
                auto response = error_response(405, "this address does not take that method");
                response.set(bhttp::field::allow, match.allow);
                return responder.send(std::move(response));
            }
            return responder.send(error_response(404, "no such API address"));
        }
        Call call{std::move(request), std::move(responder), target, match.params, nullptr, {}};
        const std::int64_t now_ms = wall_now_ms();
        const std::string token = cookie_value(call.request.message, kSessionCookie);
        if (!token.empty()) {
            const auto found = sessions.find(token, now_ms);
            if (found.session != nullptr &&
                config->workflow.find_user(found.session->user) != nullptr) {
                call.session = found.session;
                call.user = found.session->user;
                if (found.store_last_seen) {
                    write([hash = found.session->id_hash, now_ms](sqlite3* db) {
                        write_session_seen(db, hash, now_ms);
                    });
                }
            }
        }
        const bool changes_state = call.request.message.method() != bhttp::verb::get &&
                                   call.request.message.method() != bhttp::verb::head;
        if (changes_state && !origin_allowed(call.request)) {
            return call.responder.send(error_response(
                403, "refused: the request does not come from this server's page (Origin)"));
        }
        if (match.action->needs_session && call.session == nullptr) {
            return call.responder.send(error_response(401, "sign in first"));
        }
        if (changes_state && call.session != nullptr &&
            !equal_in_constant_time(call.request.message["X-CSRF-Token"], call.session->csrf)) {
            return call.responder.send(
                error_response(403, "refused: missing or wrong X-CSRF-Token; reload the page"));
        }
        match.action->action(*this, call);
    }

    bool origin_allowed(const Incoming& request) const {
        const std::string origin = request_origin(request.message);
        if (origin.empty()) return false;
        if (origin == own_origin(request.message, request.secure)) return true;
        if (!config->http) return false;
        const auto& trusted = config->http->trusted_origins;
        return std::ranges::find(trusted, origin) != trusted.end();
    }

    void handle_plain(const Incoming& request, const Responder& responder, const Target& target,
                      const std::vector<std::string>& segments) {
        const auto method = request.message.method();
        if (method != bhttp::verb::get && method != bhttp::verb::head) {
            auto response = error_response(405, "this address only answers GET");
            response.set(bhttp::field::allow, "GET, HEAD");
            return responder.send(std::move(response));
        }
        if (segments.size() == 1 && segments[0] == "healthz") {
            return responder.send(json_response(200, {{"status", "alive"}}));
        }
        if (segments.size() == 1 && segments[0] == "readyz") {
            const bool ready = !hooks.ready || hooks.ready();
            return responder.send(
                json_response(ready ? 200 : 503, {{"status", ready ? "ready" : "not ready"}}));
        }
        if (segments.size() == 1 && segments[0] == "metrics") return metrics(responder);
        if (const auto* file = find_embedded_file(target.path)) {
            return responder.send(static_file_response(*file, request.message));
        }
        responder.send(error_response(404, "no such page"));
    }

    void metrics(const Responder& responder) {
        PrometheusText core_text;
        if (hooks.core_metrics) hooks.core_metrics(core_text);
        core_text.family("floorwatch_http_sessions", "gauge", "Live web sessions.");
        core_text.sample("floorwatch_http_sessions",
                         std::uint64_t{sessions.live(wall_now_ms()).size()});
        core_text.family("floorwatch_http_event_streams", "gauge",
                         "Open server-sent event streams (pages refreshing by themselves).");
        core_text.sample("floorwatch_http_event_streams", std::uint64_t{hub.size()});
        read(responder, [text = core_text.text()](ReadConnections& store) {
            PrometheusText store_text;
            store_metrics(store_text, store.db(), store.reader(), store.alarms(), wall_now_ms());
            return text_response(200, PrometheusText::kContentType, text + store_text.text());
        });
    }

    // Runs `read` on the read pool with that worker's connections and sends its answer; 503 at
    // once when the pool is full, 500 with the reason when the read throws.
    template <typename Read>
    void read(const Responder& responder, Read job) {
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

    std::optional<json::object> body_object(Call& call) {
        boost::system::error_code error;
        auto value = json::parse(call.request.message.body(), error);
        if (error || !value.is_object()) {
            call.responder.send(error_response(400, "the body must be a JSON object"));
            return std::nullopt;
        }
        return std::move(value.as_object());
    }

    // Sends `command` through the control table as the signed-in user; the reply (after the
    // action is durable) becomes the answer, `shape` turning an ok result into the body.
    void dispatch(Call& call, const std::string& command, const json::object& args,
                  std::function<json::value(json::value)> shape = {},
                  unsigned (*refusal)(std::string_view) = refusal_status) {
        if (control == nullptr) {
            return call.responder.send(
                error_response(503, "actions are unavailable: the daemon has no command table"));
        }
        control->dispatch(
            command, control::Caller::web_user(call.user), args,
            control::Reply([responder = call.responder, shape = std::move(shape),
                            refusal](json::value answer) {
                auto& object = answer.as_object();
                if (object["ok"].as_bool()) {
                    json::value result = object["result"];
                    responder.send(json_response(200, shape ? shape(std::move(result)) : result));
                } else {
                    const std::string message = json::value_to<std::string>(object["error"]);
                    responder.send(error_response(refusal(message), message));
                }
            }));
    }

    // ---- session ----

    json::object session_json(const std::string& user, const std::string& csrf) const {
        const auto* configured = config->workflow.find_user(user);
        json::array roles;
        if (configured != nullptr) {
            for (const auto role : configured->role_list)
                roles.emplace_back(workflow::role_name(role));
        }
        return {{"user", user},
                {"roles", std::move(roles)},
                {"csrf", csrf},
                {"language", language_of(user)},
                {"node",
                 {{"role", "gateway"},
                  {"site", config->gateway.site},
                  {"node", config->gateway.node}}}};
    }

    std::string default_language() const {
        return config->http ? config->http->language : HttpConfig{}.language;
    }

    std::string language_of(const std::string& user) const {
        const auto it = credentials.find(user);
        if (it != credentials.end() && !it->second.language.empty()) return it->second.language;
        return default_language();
    }

    void get_session(Call& call) {
        if (call.session == nullptr) {
            return call.responder.send(
                json_response(200, {{"user", nullptr}, {"language", default_language()}}));
        }
        call.responder.send(json_response(200, session_json(call.user, call.session->csrf)));
    }

    void post_login(Call& call) {
        auto body = body_object(call);
        if (!body) return;
        const std::string user = control::text_arg(*body, "user");
        const std::string password = control::text_arg(*body, "password");
        const std::string address = call.request.remote_address;
        const auto now = LoginThrottle::Clock::now();
        if (const auto wait = throttle.wait_before_attempt(user, address, now); wait.count() > 0) {
            const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
            auto response = error_response(
                429, fmt::format("too many failed sign-ins; try again in {} s", seconds));
            response.set(bhttp::field::retry_after, std::to_string(seconds));
            return call.responder.send(std::move(response));
        }
        const auto it = credentials.find(user);
        const bool known = it != credentials.end() && config->workflow.find_user(user) != nullptr &&
                           password.size() <= kMaxPasswordLength;
        const std::string hash = known ? it->second.password_hash : std::string();
        const bool queued =
            passwords &&
            passwords->try_submit([weak = weak_from_this(), &core = core,
                                   responder = call.responder, user, password, hash, known, address,
                                   secure = call.request.secure](std::size_t) {
                // An unknown user costs the same time as a wrong password: nothing to tell apart.
                static const std::string kStandIn = hash_password("no user has this password");
                const bool matches =
                    known ? verify_password(hash, password) : verify_password(kStandIn, password);
                boost::asio::post(
                    core, [weak, responder, user, address, secure, ok = known && matches] {
                        if (auto self = weak.lock()) {
                            self->finish_login(responder, user, address, secure, ok);
                        } else {
                            responder.send(error_response(503, "the daemon is stopping"));
                        }
                    });
            });
        if (!queued) call.responder.send(error_response(503, "busy; try again in a moment"));
    }

    void finish_login(const Responder& responder, const std::string& user,
                      const std::string& address, bool secure, bool ok) {
        if (!ok) {
            const auto failure =
                throttle.record_failure(user, address, LoginThrottle::Clock::now());
            if (failure.user_locked || failure.address_locked) {
                log_warning(kInstance, "sign-in for '{}' from {} locked for {} s after failures",
                            user, address,
                            std::chrono::duration_cast<std::chrono::seconds>(failure.lock).count());
            } else {
                log_info(kInstance, "failed sign-in for '{}' from {}", user, address);
            }
            return responder.send(error_response(401, "wrong user name or password"));
        }
        throttle.record_success(user, address);
        auto opened = sessions.open(user, address, wall_now_ms());
        write([session = opened.session](sqlite3* db) { write_session(db, session); });
        log_info(kInstance, "'{}' signed in from {}", user, address);
        auto response = json_response(200, session_json(user, opened.session.csrf));
        response.set(bhttp::field::set_cookie,
                     fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/{}", kSessionCookie,
                                 opened.token, secure ? "; Secure" : ""));
        responder.send(std::move(response));
    }

    void post_logout(Call& call) {
        const std::string token = cookie_value(call.request.message, kSessionCookie);
        if (auto hash = sessions.close(token)) {
            write([hash = *hash](sqlite3* db) { delete_sessions(db, {hash}); });
        }
        auto response = json_response(200, {{"user", nullptr}, {"language", default_language()}});
        response.set(bhttp::field::set_cookie,
                     fmt::format("{}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/{}",
                                 kSessionCookie, call.request.secure ? "; Secure" : ""));
        call.responder.send(std::move(response));
    }

    void put_language(Call& call) {
        auto body = body_object(call);
        if (!body) return;
        const std::string language = control::text_arg(*body, "language");
        if (!allowed_language(language)) {
            return call.responder.send(error_response(400, "language must be en or zh-CN"));
        }
        if (auto it = credentials.find(call.user); it != credentials.end()) {
            it->second.language = language;
            write(
                [user = call.user, language](sqlite3* db) { write_language(db, user, language); });
        }
        call.responder.send(json_response(200, session_json(call.user, call.session->csrf)));
    }

    void get_users(Call& call) {
        json::array users;
        for (const auto& user : config->workflow.users) {
            json::array roles;
            for (const auto role : user.role_list) roles.emplace_back(workflow::role_name(role));
            users.push_back(json::object{{"name", user.name}, {"roles", std::move(roles)}});
        }
        call.responder.send(json_response(200, {{"users", std::move(users)}}));
    }

    // ---- orders ----

    void get_orders(Call& call) {
        OrderQuery query;
        query.state = query_value(call.target, "state");
        query.risk = query_value(call.target, "risk");
        query.area = query_value(call.target, "area");
        query.equipment = query_value(call.target, "equipment");
        query.assignee = query_value(call.target, "assignee");
        query.text = query_value(call.target, "q");
        query.overdue = query_value(call.target, "overdue") == "1";
        if (query_value(call.target, "mine") == "1") query.assignee = call.user;
        read(call.responder, [query](ReadConnections& store) {
            return json_response(200, orders_json(store.db(), query, wall_now_ms()));
        });
    }

    void get_order(Call& call) {
        const auto* user = config->workflow.find_user(call.user);
        read(call.responder, [snapshot = config, id = call.params[0],
                              actor = workflow::Actor::from_user(*user)](ReadConnections& store) {
            auto detail =
                order_detail_json(store.db(), store.reader(), id, actor, *snapshot, wall_now_ms());
            if (!detail) return error_response(404, fmt::format("no order {}", id));
            return json_response(200, *detail);
        });
    }

    void post_action(Call& call) {
        auto body = body_object(call);
        if (!body) return;
        json::object args{{"order", call.params[0]}};
        for (const auto* key : {"action", "reason", "note", "kind", "assignee"}) {
            if (const auto* value = body->if_contains(key); value && value->is_string()) {
                args[key] = *value;
            }
        }
        if (const auto deadline = whole_number(body->if_contains("deadline"))) {
            args["deadline_ms"] = *deadline;
        }
        if (const auto* attachments = body->if_contains("attachments")) {
            args["attachments"] = *attachments;
        }
        dispatch(call, "order.act", args);
    }

    void post_report(Call& call) {
        auto body = body_object(call);
        if (!body) return;
        json::object args;
        for (const auto* key : {"equipment", "area", "hazard_type", "risk", "title", "description",
                                "immediate_measures", "anonymous", "attachments"}) {
            if (const auto* value = body->if_contains(key)) args[key] = *value;
        }
        dispatch(call, "order.report", args);
    }

    // ---- attachments ----

    void post_attachment(Call& call) {
        const auto part = find_file_part(call.request.message[bhttp::field::content_type],
                                         call.request.message.body(), "file");
        if (!part.file) return call.responder.send(error_response(400, part.problem));
        if (part.file->bytes.empty()) {
            return call.responder.send(error_response(400, "the file is empty"));
        }
        // The control table takes a file in chunks; the chunks go one after the other, each
        // when the previous one is answered, and the last answer is the page's.
        send_chunk(call.responder, call.user, std::make_shared<const std::string>(part.file->bytes),
                   part.file->file_name, 0, "");
    }

    void send_chunk(const Responder& responder, const std::string& user,
                    std::shared_ptr<const std::string> bytes, const std::string& name,
                    std::size_t offset, const std::string& upload_id) {
        if (control == nullptr) {
            return responder.send(error_response(503, "uploads are unavailable"));
        }
        const std::size_t size = std::min(orders::Uploads::kMaxChunk, bytes->size() - offset);
        const bool last = offset + size >= bytes->size();
        json::object args{
            {"name", name},
            {"data", orders::base64_encode(std::string_view(*bytes).substr(offset, size))},
            {"last", last}};
        if (!upload_id.empty()) args["upload"] = upload_id;
        control->dispatch(
            "attachment.upload", control::Caller::web_user(user), args,
            control::Reply([weak = weak_from_this(), responder, user, bytes, name,
                            next = offset + size, last](json::value answer) {
                auto& object = answer.as_object();
                if (!object["ok"].as_bool()) {
                    const std::string message = json::value_to<std::string>(object["error"]);
                    return responder.send(error_response(upload_refusal_status(message), message));
                }
                if (last) return responder.send(json_response(200, object["result"]));
                auto self = weak.lock();
                if (!self) return responder.send(error_response(503, "the daemon is stopping"));
                const auto id = json::value_to<std::string>(object["result"].as_object()["upload"]);
                self->send_chunk(responder, user, bytes, name, next, id);
            }));
    }

    void get_attachment(Call& call) {
        const std::string sha256 = call.params[0];
        if (!is_sha256(sha256)) {
            return call.responder.send(error_response(404, "no such attachment"));
        }
        read(call.responder, [sha256](ReadConnections& store) {
            auto file = read_attachment(store.db(), sha256);
            if (!file) return error_response(404, "no such attachment");
            Response response{bhttp::status::ok, 11};
            const bool image = file->media_type.starts_with("image/");
            response.set(bhttp::field::content_type, file->media_type);
            response.set(bhttp::field::content_disposition,
                         fmt::format("{}; filename=\"{}\"", image ? "inline" : "attachment",
                                     disposition_name(file->name)));
            response.set("Content-Security-Policy", "sandbox");
            response.set(bhttp::field::cache_control, "private, max-age=86400, immutable");
            response.body() = std::move(file->data);
            return response;
        });
    }

    // ---- alarms ----

    void get_alarms(Call& call) {
        const bool all = query_value(call.target, "all") == "1";
        read(call.responder, [all](ReadConnections& store) {
            return json_response(200, alarms_json(store.alarms(), all));
        });
    }

    void get_alarm_history(Call& call) {
        const std::int64_t now = wall_now_ms();
        alarms::HistoryFilter filter;
        const std::string since = query_value(call.target, "since");
        const std::string until = query_value(call.target, "until");
        const auto since_ms = parse_when(since.empty() ? "24h" : since, now);
        const auto until_ms =
            until.empty() ? std::optional<std::int64_t>(now + 1) : parse_when(until, now);
        if (!since_ms || !until_ms) {
            return call.responder.send(error_response(
                400,
                "since and until are durations ago (24h) or UTC times (2026-11-29T08:00:00Z)"));
        }
        filter.since_ms = *since_ms;
        filter.until_ms = *until_ms;
        filter.rule = query_value(call.target, "rule");
        filter.equipment = query_value(call.target, "equipment");
        filter.limit = 1000;
        read(call.responder, [filter](ReadConnections& store) {
            return json_response(200, alarm_history_json(store.alarms(), filter));
        });
    }

    void post_alarm_action(Call& call) {
        const std::string action = call.params[2];
        static const std::map<std::string, std::string, std::less<>> kCommands{
            {"ack", "alarm.ack"},
            {"shelve", "alarm.shelve"},
            {"unshelve", "alarm.unshelve"},
            {"disable", "alarm.disable"},
            {"enable", "alarm.enable"}};
        const auto command = kCommands.find(action);
        if (command == kCommands.end()) {
            return call.responder.send(
                error_response(404, "alarm actions are ack, shelve, unshelve, disable and enable"));
        }
        auto body = body_object(call);
        if (!body) return;
        json::object args{{"rule", call.params[0]}, {"equipment", call.params[1]}};
        if (const auto* reason = body->if_contains("reason"); reason && reason->is_string()) {
            args["reason"] = *reason;
        }
        if (const auto duration = whole_number(body->if_contains("duration"))) {
            args["duration_ms"] = *duration;
        }
        dispatch(call, command->second, args);
    }

    // ---- readings ----

    void get_channels(Call& call) {
        read(call.responder, [](ReadConnections& store) {
            return json_response(200, channels_json(store.reader(), wall_now_ms()));
        });
    }

    void get_samples(Call& call) {
        const std::int64_t now = wall_now_ms();
        const std::string since = query_value(call.target, "since");
        const std::string until = query_value(call.target, "until");
        const auto since_ms = parse_when(since.empty() ? "1h" : since, now);
        const auto until_ms =
            until.empty() ? std::optional<std::int64_t>(now + 1) : parse_when(until, now);
        if (!since_ms || !until_ms) {
            return call.responder.send(error_response(
                400, "since and until are durations ago (1h) or UTC times (2026-11-29T08:00:00Z)"));
        }
        read(call.responder, [channel = call.params[0], since = *since_ms,
                              until = *until_ms](ReadConnections& store) {
            auto samples = samples_json(store.reader(), channel, since, until);
            if (!samples) return error_response(404, fmt::format("no channel {}", channel));
            return json_response(200, *samples);
        });
    }

    void get_devices(Call& call) {
        read(call.responder, [](ReadConnections& store) {
            return json_response(200, devices_json(store.reader()));
        });
    }

    // ---- KPIs and reports ----

    void get_kpi(Call& call) {
        const std::int64_t now = wall_now_ms();
        workflow::KpiFilter filter;
        const std::string since = query_value(call.target, "since");
        const std::string until = query_value(call.target, "until");
        if (!since.empty()) {
            const auto parsed = parse_when(since, now);
            if (!parsed)
                return call.responder.send(error_response(400, "since: 180d or a UTC time"));
            filter.since_ms = *parsed;
        }
        if (!until.empty()) {
            const auto parsed = parse_when(until, now);
            if (!parsed) return call.responder.send(error_response(400, "until: a UTC time"));
            filter.until_ms = *parsed;
        }
        filter.area = query_value(call.target, "area");
        read(call.responder, [filter](ReadConnections& store) {
            return json_response(200, kpi_json(store.db(), filter, wall_now_ms()));
        });
    }

    void get_weekly(Call& call) {
        const std::int64_t now = wall_now_ms();
        const std::string until = query_value(call.target, "until");
        std::int64_t week_end = now;
        if (!until.empty()) {
            const auto parsed = parse_when(until, now);
            if (!parsed) return call.responder.send(error_response(400, "until: a UTC time"));
            week_end = *parsed;
        }
        const std::string title =
            fmt::format("Weekly safety report, {} {}", config->gateway.site, config->gateway.node);
        read(call.responder, [week_end, title](ReadConnections& store) {
            return json_response(200, weekly_json(store.db(), week_end, wall_now_ms(), title));
        });
    }

    void get_sync(Call& call) {
        // A gateway without the sync agent has no peer to report.
        call.responder.send(json_response(200, {{"peers", json::array()}}));
    }

    void get_stream(Call& call) {
        Response head{bhttp::status::ok, 11};
        head.set(bhttp::field::content_type, "text/event-stream");
        head.set(bhttp::field::cache_control, "no-store");
        if (auto stream = call.responder.open_event_stream(std::move(head))) {
            stream->send("retry: 5000\n\n");
            hub.add(std::move(stream));
        }
    }

    // ---- control commands: floorwatch user ... ----

    // uid 0 and admins may act on anyone; everyone else only on themself.
    bool may_manage(const control::Caller& caller, const std::string& user,
                    std::string& who) const {
        if (caller.uid == 0 && caller.authenticated_user.empty()) {
            who = caller.user;
            return true;
        }
        const auto actor = orders::actor_for(caller, *config);
        if (!actor) return false;
        who = actor->user;
        return actor->holds(workflow::Role::admin) || (!user.empty() && actor->user == user);
    }

    void on_passwd(const control::Caller& caller, const json::object& args, control::Reply reply) {
        const std::string user = control::text_arg(args, "user");
        const std::string hash = control::text_arg(args, "hash");
        if (config->workflow.find_user(user) == nullptr) {
            return reply.error(fmt::format(
                "'{}' is not in workflow.users; add them there (with their roles) first", user));
        }
        std::string who;
        if (!may_manage(caller, user, who)) {
            return reply.error(fmt::format(
                "{} may not set the password of {}: that needs admin (or root, or being {})",
                caller.user, user, user));
        }
        if (!is_password_hash(hash)) {
            return reply.error("not an Argon2id hash; use floorwatch user passwd, which makes one");
        }
        const std::int64_t now = wall_now_ms();
        ++writes_pending;
        store::post_when_durable(
            writer, core, weak_from_this(),
            [user, hash, now, who](sqlite3* db) { write_password(db, user, hash, now, who); },
            [user, hash, who, reply](Impl& self, const Status& written) mutable {
                --self.writes_pending;
                if (!written) return reply.error("not stored: " + written.error());
                self.credentials[user].password_hash = hash;
                const auto ended = self.sessions.revoke_user(user);
                log_info(kInstance, "password of '{}' set by {}; {} session(s) ended", user, who,
                         ended);
                reply.ok(json::object{{"user", user}, {"sessions_ended", ended}});
            },
            [reply]() mutable { reply.error("daemon stopping"); });
    }

    void on_sessions(const control::Caller& caller, const json::object&, control::Reply reply) {
        std::string who;
        const bool admin = may_manage(caller, "", who);
        json::array rows;
        for (const auto& session : sessions.live(wall_now_ms())) {
            if (!admin && session.user != who) continue;
            rows.push_back(json::object{{"user", session.user},
                                        {"address", session.address},
                                        {"created_ms", session.created_ms},
                                        {"last_seen_ms", session.last_seen_ms},
                                        {"expires_ms", session.expires_ms}});
        }
        reply.ok(json::object{{"sessions", std::move(rows)}});
    }

    void on_revoke(const control::Caller& caller, const json::object& args, control::Reply reply) {
        const std::string user = control::text_arg(args, "user");
        std::string who;
        if (!may_manage(caller, user, who)) {
            return reply.error(fmt::format(
                "{} may not end the sessions of {}: that needs admin (or root, or being {})",
                caller.user, user, user));
        }
        const auto ended = sessions.revoke_user(user);
        ++writes_pending;
        store::post_when_durable(
            writer, core, weak_from_this(), [user](sqlite3* db) { delete_user_sessions(db, user); },
            [user, ended, who, reply](Impl& self, const Status& written) mutable {
                --self.writes_pending;
                if (!written) return reply.error("not stored: " + written.error());
                log_info(kInstance, "{} session(s) of '{}' ended by {}", ended, user, who);
                reply.ok(json::object{{"user", user}, {"sessions_ended", ended}});
            },
            [reply]() mutable { reply.error("daemon stopping"); });
    }

    boost::asio::io_context& core;
    store::Writer& writer;
    std::shared_ptr<const Config> config;
    control::Server* control;
    WebApiHooks hooks;
    Router<Route> router;
    SessionTable sessions;
    LoginThrottle throttle;
    std::map<std::string, Credential, std::less<>> credentials;
    EventHub hub;
    std::vector<std::unique_ptr<ReadConnections>> connections;
    std::unique_ptr<WorkPool> reads;
    std::unique_ptr<WorkPool> passwords;
    boost::asio::steady_timer sweep_timer{core};
    boost::asio::steady_timer change_timer{core};
    ChangeCounters last_changes;
    std::int64_t last_readings_notice_ms = 0;
    std::size_t writes_pending = 0;
};

WebApi::WebApi(boost::asio::io_context& core, store::Writer& writer, const Config& config,
               control::Server* control, WebApiHooks hooks)
    : impl_(std::make_shared<Impl>(core, writer, config, control, std::move(hooks))) {
    impl_->build_routes();
    impl_->register_commands();
}

WebApi::~WebApi() {
    impl_->stop();
}

void WebApi::start() {
    impl_->start();
}

void WebApi::reload(const Config& config) {
    impl_->config = std::make_shared<const Config>(config);
    impl_->sessions.set_idle_lifetime(Impl::idle_lifetime(config));
}

void WebApi::stop() {
    impl_->stop();
}

bool WebApi::writes_in_flight() const {
    return impl_->writes_pending > 0;
}

std::size_t WebApi::live_sessions() const {
    return impl_->sessions.live(wall_now_ms()).size();
}

std::size_t WebApi::event_streams() const {
    return impl_->hub.size();
}

std::uint64_t WebApi::body_limit(const RequestHeader& header) {
    return impl_->body_limit(header);
}

void WebApi::handle(Incoming request, Responder responder) {
    impl_->handle(std::move(request), std::move(responder));
}

}  // namespace fw::http
