#include "daemon/http/web_api.hpp"

#include "daemon/http/web_api_impl.hpp"

namespace fw::http {

// ---- setup ----

void WebApi::Impl::register_commands() {
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

void WebApi::Impl::build_routes() {
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

void WebApi::Impl::start() {
    auto stored = backend.users->load();
    credentials = std::move(stored.credentials);
    sessions.load(std::move(stored.sessions), wall_now_ms());
    for (std::size_t i = 0; i < kReadWorkers; ++i) connections.push_back(backend.open_reads());
    reads = std::make_unique<WorkPool>("http-read", kReadWorkers, kReadQueue);
    passwords = std::make_unique<WorkPool>("http-password", 1, kPasswordQueue);
    log_info(kInstance, "{} web user(s) with a password, {} live session(s)", credentials.size(),
             sessions.live(wall_now_ms()).size());
    schedule_sweep();
    if (hooks.changes) {
        last_changes = hooks.changes();
        schedule_change_watch();
    }
}

void WebApi::Impl::stop() {
    sweep_timer.cancel();
    change_timer.cancel();
    reads.reset();
    passwords.reset();
    hub = EventHub();
}

// ---- timers ----

void WebApi::Impl::schedule_sweep() {
    sweep_timer.expires_after(kSweepInterval);
    sweep_timer.async_wait([weak = weak_from_this()](const auto& error) {
        auto self = weak.lock();
        if (error || !self) return;
        auto ended = self->sessions.sweep(wall_now_ms());
        if (!ended.empty()) self->write(web_change::SessionsEnded{std::move(ended)});
        self->schedule_sweep();
    });
}

void WebApi::Impl::schedule_change_watch() {
    change_timer.expires_after(kChangeInterval);
    change_timer.async_wait([weak = weak_from_this()](const auto& error) {
        auto self = weak.lock();
        if (error || !self) return;
        self->publish_changes();
        self->schedule_change_watch();
    });
}

void WebApi::Impl::publish_changes() {
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

void WebApi::Impl::write(WebUserChange change) {
    write(std::move(change),
          [](Impl&, const Status& written) {
              if (!written) log_error(kInstance, "web session not stored: {}", written.error());
          },
          {});
}

void WebApi::Impl::write(WebUserChange change, std::function<void(Impl&, const Status&)> then,
                         std::function<void()> if_gone) {
    ++writes_pending;
    backend.users->write(std::move(change), [weak = weak_from_this(), then = std::move(then),
                                             if_gone = std::move(if_gone)](const Status& written) {
        if (auto self = weak.lock()) {
            --self->writes_pending;
            then(*self, written);
        } else if (if_gone) {
            if_gone();
        }
    });
}

// ---- requests ----

std::uint64_t WebApi::Impl::body_limit(const RequestHeader& header) const {
    if (header.method() == bhttp::verb::post &&
        header.target().starts_with("/api/v1/attachments")) {
        const HttpConfig defaults;
        const HttpConfig& http = config->http ? *config->http : defaults;
        return http.body_limit(config->workflow.attachments.max_size);
    }
    return kSmallBodyLimit;
}

void WebApi::Impl::handle(Incoming request, Responder responder) {
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
                write(web_change::SessionSeen{found.session->id_hash, now_ms});
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

bool WebApi::Impl::origin_allowed(const Incoming& request) const {
    const std::string origin = request_origin(request.message);
    if (origin.empty()) return false;
    if (origin == own_origin(request.message, request.secure)) return true;
    if (!config->http) return false;
    const auto& trusted = config->http->trusted_origins;
    return std::ranges::find(trusted, origin) != trusted.end();
}

void WebApi::Impl::handle_plain(const Incoming& request, const Responder& responder,
                                const Target& target, const std::vector<std::string>& segments) {
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

void WebApi::Impl::metrics(const Responder& responder) {
    PrometheusText core_text;
    if (hooks.core_metrics) hooks.core_metrics(core_text);
    core_text.family("floorwatch_http_sessions", "gauge", "Live web sessions.");
    core_text.sample("floorwatch_http_sessions",
                     std::uint64_t{sessions.live(wall_now_ms()).size()});
    core_text.family("floorwatch_http_event_streams", "gauge",
                     "Open server-sent event streams (pages refreshing by themselves).");
    core_text.sample("floorwatch_http_event_streams", std::uint64_t{hub.size()});
    read(responder, [text = core_text.text()](ReadSource& store) {
        PrometheusText store_text;
        store_metrics(store_text, store, wall_now_ms());
        return text_response(200, PrometheusText::kContentType, text + store_text.text());
    });
}

std::optional<json::object> WebApi::Impl::body_object(Call& call) {
    boost::system::error_code error;
    auto value = json::parse(call.request.message.body(), error);
    if (error || !value.is_object()) {
        call.responder.send(error_response(400, "the body must be a JSON object"));
        return std::nullopt;
    }
    return std::move(value.as_object());
}

void WebApi::Impl::dispatch(Call& call, const std::string& command, const json::object& args,
                            std::function<json::value(json::value)> shape,
                            unsigned (*refusal)(std::string_view)) {
    if (control == nullptr) {
        return call.responder.send(
            error_response(503, "actions are unavailable: the daemon has no command table"));
    }
    control->dispatch(
        command, control::Caller::web_user(call.user), args,
        control::Reply(
            [responder = call.responder, shape = std::move(shape), refusal](json::value answer) {
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

json::object WebApi::Impl::session_json(const std::string& user, const std::string& csrf) const {
    const auto* configured = config->workflow.find_user(user);
    json::array roles;
    if (configured != nullptr) {
        for (const auto role : configured->role_list) roles.emplace_back(workflow::role_name(role));
    }
    return {
        {"user", user},
        {"roles", std::move(roles)},
        {"csrf", csrf},
        {"language", language_of(user)},
        {"node",
         {{"role", backend.role}, {"site", config->gateway.site}, {"node", config->gateway.node}}}};
}

std::string WebApi::Impl::default_language() const {
    return config->http ? config->http->language : HttpConfig{}.language;
}

std::string WebApi::Impl::language_of(const std::string& user) const {
    const auto it = credentials.find(user);
    if (it != credentials.end() && !it->second.language.empty()) return it->second.language;
    return default_language();
}

void WebApi::Impl::get_session(Call& call) {
    if (call.session == nullptr) {
        return call.responder.send(
            json_response(200, {{"user", nullptr}, {"language", default_language()}}));
    }
    call.responder.send(json_response(200, session_json(call.user, call.session->csrf)));
}

void WebApi::Impl::post_login(Call& call) {
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
        passwords && passwords->try_submit([weak = weak_from_this(), &core = core,
                                            responder = call.responder, user, password, hash, known,
                                            address, secure = call.request.secure](std::size_t) {
            // An unknown user costs the same time as a wrong password: nothing to tell apart.
            static const std::string kStandIn = hash_password("no user has this password");
            const bool matches =
                known ? verify_password(hash, password) : verify_password(kStandIn, password);
            boost::asio::post(core,
                              [weak, responder, user, address, secure, ok = known && matches] {
                                  if (auto self = weak.lock()) {
                                      self->finish_login(responder, user, address, secure, ok);
                                  } else {
                                      responder.send(error_response(503, "the daemon is stopping"));
                                  }
                              });
        });
    if (!queued) call.responder.send(error_response(503, "busy; try again in a moment"));
}

void WebApi::Impl::finish_login(const Responder& responder, const std::string& user,
                                const std::string& address, bool secure, bool ok) {
    if (!ok) {
        const auto failure = throttle.record_failure(user, address, LoginThrottle::Clock::now());
        if (failure.user_locked || failure.address_locked) {
            log_warning(kInstance, "sign-in for '{}' from {} locked for {} s after failures", user,
                        address,
                        std::chrono::duration_cast<std::chrono::seconds>(failure.lock).count());
        } else {
            log_info(kInstance, "failed sign-in for '{}' from {}", user, address);
        }
        return responder.send(error_response(401, "wrong user name or password"));
    }
    throttle.record_success(user, address);
    auto opened = sessions.open(user, address, wall_now_ms());
    write(web_change::SessionOpened{opened.session});
    log_info(kInstance, "'{}' signed in from {}", user, address);
    auto response = json_response(200, session_json(user, opened.session.csrf));
    response.set(bhttp::field::set_cookie,
                 fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/{}", kSessionCookie,
                             opened.token, secure ? "; Secure" : ""));
    responder.send(std::move(response));
}

void WebApi::Impl::post_logout(Call& call) {
    const std::string token = cookie_value(call.request.message, kSessionCookie);
    if (auto hash = sessions.close(token)) write(web_change::SessionsEnded{{*hash}});
    auto response = json_response(200, {{"user", nullptr}, {"language", default_language()}});
    response.set(bhttp::field::set_cookie,
                 fmt::format("{}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/{}", kSessionCookie,
                             call.request.secure ? "; Secure" : ""));
    call.responder.send(std::move(response));
}

void WebApi::Impl::put_language(Call& call) {
    auto body = body_object(call);
    if (!body) return;
    const std::string language = control::text_arg(*body, "language");
    if (!allowed_language(language)) {
        return call.responder.send(error_response(400, "language must be en or zh-CN"));
    }
    if (auto it = credentials.find(call.user); it != credentials.end()) {
        it->second.language = language;
        write(web_change::LanguageSet{call.user, language});
    }
    call.responder.send(json_response(200, session_json(call.user, call.session->csrf)));
}

void WebApi::Impl::get_users(Call& call) {
    json::array users;
    for (const auto& user : config->workflow.users) {
        json::array roles;
        for (const auto role : user.role_list) roles.emplace_back(workflow::role_name(role));
        users.push_back(json::object{{"name", user.name}, {"roles", std::move(roles)}});
    }
    call.responder.send(json_response(200, {{"users", std::move(users)}}));
}

WebApiBackend gateway_web_backend(boost::asio::io_context& core, store::Writer& writer,
                                  const std::string& store_path) {
    WebApiBackend backend;
    backend.role = "gateway";
    backend.open_reads = [store_path]() -> std::unique_ptr<ReadSource> {
        return std::make_unique<ReadConnections>(store_path);
    };
    backend.users = gateway_web_users(core, writer, store_path);
    return backend;
}

WebApi::WebApi(boost::asio::io_context& core, WebApiBackend backend, const Config& config,
               control::Server* control, WebApiHooks hooks)
    : impl_(std::make_shared<Impl>(core, std::move(backend), config, control, std::move(hooks))) {
    impl_->build_routes();
    impl_->register_commands();
}

WebApi::~WebApi() {
    try {
        impl_->stop();
    } catch (...) {
        // Only the timers' cancel() and the pools' thread joins can throw, and on Linux they do
        // not for timers and threads this API owns; a destructor must not throw.
    }
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
