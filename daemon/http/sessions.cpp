#include "daemon/http/sessions.hpp"

#include "daemon/http/passwords.hpp"

namespace fw::http {

bool SessionTable::alive(const Session& session, std::int64_t now_ms) const {
    return !session.revoked && now_ms < session.expires_ms &&
           now_ms - session.last_seen_ms < idle_lifetime_.count();
}

void SessionTable::load(std::vector<Session> sessions, std::int64_t now_ms) {
    by_hash_.clear();
    for (auto& session : sessions) {
        if (!alive(session, now_ms)) continue;
        session.stored_seen_ms = session.last_seen_ms;
        std::string key = session.id_hash;
        by_hash_.emplace(std::move(key), std::move(session));
    }
}

SessionTable::Opened SessionTable::open(std::string user, std::string address,
                                        std::int64_t now_ms) {
    Opened opened;
    opened.token = random_hex(32);
    Session& session = opened.session;
    session.id_hash = sha256_hex_of(opened.token);
    session.user = std::move(user);
    session.csrf = random_hex(32);
    session.address = std::move(address);
    session.created_ms = now_ms;
    session.last_seen_ms = now_ms;
    session.stored_seen_ms = now_ms;
    session.expires_ms = now_ms + kSessionAbsoluteLifetime.count();
    by_hash_[session.id_hash] = session;
    return opened;
}

SessionTable::Found SessionTable::find(std::string_view token, std::int64_t now_ms) {
    Found found;
    // A token is 64 hex digits; anything else is not worth hashing.
    if (token.size() != 64) return found;
    const auto it = by_hash_.find(sha256_hex_of(token));
    if (it == by_hash_.end() || !alive(it->second, now_ms)) return found;
    Session& session = it->second;
    // Every request counts as use: a session in use never ends before its idle lifetime, however
    // short. The store follows at most once per interval (a write per request would be a disk
    // write per click).
    session.last_seen_ms = now_ms;
    found.store_last_seen = now_ms - session.stored_seen_ms >= kSessionSeenWriteInterval.count();
    if (found.store_last_seen) session.stored_seen_ms = now_ms;
    found.session = &session;
    return found;
}

std::optional<std::string> SessionTable::close(std::string_view token) {
    if (token.size() != 64) return std::nullopt;
    const auto it = by_hash_.find(sha256_hex_of(token));
    if (it == by_hash_.end()) return std::nullopt;
    std::string hash = it->first;
    by_hash_.erase(it);
    return hash;
}

std::size_t SessionTable::revoke_user(std::string_view user) {
    return std::erase_if(by_hash_, [&](const auto& item) { return item.second.user == user; });
}

std::vector<std::string> SessionTable::sweep(std::int64_t now_ms) {
    std::vector<std::string> ended;
    for (auto it = by_hash_.begin(); it != by_hash_.end();) {
        if (alive(it->second, now_ms)) {
            ++it;
        } else {
            ended.push_back(it->first);
            it = by_hash_.erase(it);
        }
    }
    return ended;
}

std::vector<Session> SessionTable::live(std::int64_t now_ms) const {
    std::vector<Session> sessions;
    for (const auto& [hash, session] : by_hash_) {
        if (alive(session, now_ms)) sessions.push_back(session);
    }
    return sessions;
}

}  // namespace fw::http
