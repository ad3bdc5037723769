#include "daemon/http/web_api_impl.hpp"

namespace fw::http {

// ---- orders ----

void WebApi::Impl::get_orders(Call& call) {
    OrderQuery query;
    query.state = query_value(call.target, "state");
    query.risk = query_value(call.target, "risk");
    query.area = query_value(call.target, "area");
    query.equipment = query_value(call.target, "equipment");
    query.assignee = query_value(call.target, "assignee");
    query.gateway = query_value(call.target, "gateway");
    query.text = query_value(call.target, "q");
    query.overdue = query_value(call.target, "overdue") == "1";
    if (query_value(call.target, "mine") == "1") query.assignee = call.user;
    const auto page_number = [&call](std::string_view key, std::size_t fallback, std::size_t low,
                                     std::size_t high) -> std::optional<std::size_t> {
        const std::string text = query_value(call.target, key);
        if (text.empty()) return fallback;
        std::size_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || value < low ||
            value > high) {
            call.responder.send(error_response(
                400, fmt::format("{} must be a whole number from {} to {}", key, low, high)));
            return std::nullopt;
        }
        return value;
    };
    const auto limit =
        page_number("limit", OrderQuery::kDefaultOrderPage, 1, OrderQuery::kMaxOrderPage);
    if (!limit) return;
    const auto offset = page_number("offset", 0, 0, 1'000'000'000);
    if (!offset) return;
    query.limit = *limit;
    query.offset = *offset;
    read(call.responder, [query](ReadSource& store) {
        return json_response(200, orders_json(store, query, wall_now_ms()));
    });
}

void WebApi::Impl::get_order(Call& call) {
    const auto* user = config->workflow.find_user(call.user);
    read(call.responder, [snapshot = config, id = call.params[0],
                          actor = workflow::Actor::from_user(*user)](ReadSource& store) {
        auto detail = order_detail_json(store, id, actor, *snapshot, wall_now_ms());
        if (!detail) return error_response(404, fmt::format("no order {}", id));
        return json_response(200, *detail);
    });
}

void WebApi::Impl::post_action(Call& call) {
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

void WebApi::Impl::post_report(Call& call) {
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

void WebApi::Impl::post_attachment(Call& call) {
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

void WebApi::Impl::send_chunk(const Responder& responder, const std::string& user,
                              const std::shared_ptr<const std::string>& bytes,
                              const std::string& name, std::size_t offset,
                              const std::string& upload_id) {
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
        control::Reply([weak = weak_from_this(), responder, user, bytes, name, next = offset + size,
                        last](json::value answer) {
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

void WebApi::Impl::get_attachment(Call& call) {
    const std::string sha256 = call.params[0];
    if (!is_sha256(sha256)) {
        return call.responder.send(error_response(404, "no such attachment"));
    }
    read(call.responder, [sha256](ReadSource& store) {
        auto file = store.attachment(sha256);
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

void WebApi::Impl::get_alarms(Call& call) {
    const bool all = query_value(call.target, "all") == "1";
    read(call.responder, [all](ReadSource& store) {
        auto* alarms = store.alarms();
        if (alarms == nullptr) return json_response(200, {{"alarms", json::array()}});
        return json_response(200, alarms_json(*alarms, all));
    });
}

void WebApi::Impl::get_alarm_history(Call& call) {
    const std::int64_t now = wall_now_ms();
    alarms::HistoryFilter filter;
    const std::string since = query_value(call.target, "since");
    const std::string until = query_value(call.target, "until");
    const auto since_ms = parse_when(since.empty() ? "24h" : since, now);
    const auto until_ms =
        until.empty() ? std::optional<std::int64_t>(now + 1) : parse_when(until, now);
    if (!since_ms || !until_ms) {
        return call.responder.send(error_response(
            400, "since and until are durations ago (24h) or UTC times (2026-11-29T08:00:00Z)"));
    }
    filter.since_ms = *since_ms;
    filter.until_ms = *until_ms;
    filter.rule = query_value(call.target, "rule");
    filter.equipment = query_value(call.target, "equipment");
    filter.limit = 1000;
    read(call.responder, [filter](ReadSource& store) {
        auto* alarms = store.alarms();
        if (alarms == nullptr) return json_response(200, {{"events", json::array()}});
        return json_response(200, alarm_history_json(*alarms, filter));
    });
}

void WebApi::Impl::post_alarm_action(Call& call) {
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

void WebApi::Impl::get_channels(Call& call) {
    read(call.responder, [](ReadSource& store) {
        auto* readings = store.readings();
        if (readings == nullptr) return json_response(200, {{"channels", json::array()}});
        return json_response(200, channels_json(*readings, wall_now_ms()));
    });
}

void WebApi::Impl::get_samples(Call& call) {
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
    read(call.responder,
         [channel = call.params[0], since = *since_ms, until = *until_ms](ReadSource& store) {
             auto* readings = store.readings();
             auto samples = readings == nullptr ? std::nullopt
                                                : samples_json(*readings, channel, since, until);
             if (!samples) return error_response(404, fmt::format("no channel {}", channel));
             return json_response(200, *samples);
         });
}

void WebApi::Impl::get_devices(Call& call) {
    read(call.responder, [](ReadSource& store) {
        auto* readings = store.readings();
        if (readings == nullptr) {
            return json_response(200, {{"devices", json::array()}, {"brokers", json::array()}});
        }
        return json_response(200, devices_json(*readings));
    });
}

// ---- KPIs and reports ----

void WebApi::Impl::get_kpi(Call& call) {
    const std::int64_t now = wall_now_ms();
    workflow::KpiFilter filter;
    const std::string since = query_value(call.target, "since");
    const std::string until = query_value(call.target, "until");
    if (!since.empty()) {
        const auto parsed = parse_when(since, now);
        if (!parsed) return call.responder.send(error_response(400, "since: 180d or a UTC time"));
        filter.since_ms = *parsed;
    }
    if (!until.empty()) {
        const auto parsed = parse_when(until, now);
        if (!parsed) return call.responder.send(error_response(400, "until: a UTC time"));
        filter.until_ms = *parsed;
    }
    filter.area = query_value(call.target, "area");
    read(call.responder, [filter](ReadSource& store) {
        return json_response(200, kpi_json(store, filter, wall_now_ms()));
    });
}

void WebApi::Impl::get_weekly(Call& call) {
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
    read(call.responder, [week_end, title](ReadSource& store) {
        return json_response(200, weekly_json(store, week_end, wall_now_ms(), title));
    });
}

void WebApi::Impl::get_sync(Call& call) {
    read(call.responder, [](ReadSource& store) { return json_response(200, store.sync_state()); });
}

void WebApi::Impl::get_stream(Call& call) {
    Response head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-store");
    if (auto stream = call.responder.open_event_stream(std::move(head))) {
        stream->send("retry: 5000\n\n");
        hub.add(std::move(stream));
    }
}

// ---- control commands: floorwatch user ... ----

bool WebApi::Impl::may_manage(const control::Caller& caller, const std::string& user,
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

void WebApi::Impl::on_passwd(const control::Caller& caller, const json::object& args,
                             control::Reply reply) {
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
    write(
        web_change::PasswordSet{user, hash, wall_now_ms(), who},
        [user, hash, who, reply](Impl& self, const Status& written) mutable {
            if (!written) return reply.error("not stored: " + written.error());
            self.credentials[user].password_hash = hash;
            const auto ended = self.sessions.revoke_user(user);
            log_info(kInstance, "password of '{}' set by {}; {} session(s) ended", user, who,
                     ended);
            reply.ok(json::object{{"user", user}, {"sessions_ended", ended}});
        },
        [reply]() mutable { reply.error("daemon stopping"); });
}

void WebApi::Impl::on_sessions(const control::Caller& caller, const json::object&,
                               control::Reply reply) {
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

void WebApi::Impl::on_revoke(const control::Caller& caller, const json::object& args,
                             control::Reply reply) {
    const std::string user = control::text_arg(args, "user");
    std::string who;
    if (!may_manage(caller, user, who)) {
        return reply.error(fmt::format(
            "{} may not end the sessions of {}: that needs admin (or root, or being {})",
            caller.user, user, user));
    }
    const auto ended = sessions.revoke_user(user);
    write(
        web_change::UserSessionsEnded{user},
        [user, ended, who, reply](Impl&, const Status& written) mutable {
            if (!written) return reply.error("not stored: " + written.error());
            log_info(kInstance, "{} session(s) of '{}' ended by {}", ended, user, who);
            reply.ok(json::object{{"user", user}, {"sessions_ended", ended}});
        },
        [reply]() mutable { reply.error("daemon stopping"); });
}

}  // namespace fw::http
