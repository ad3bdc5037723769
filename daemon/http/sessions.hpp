#pragma once
// Web sessions: a random 256-bit token in the HttpOnly cookie `fw_session`; the server keeps only
// its SHA-256 (a copy of the store does not let anyone in), the user, a CSRF token, where and
// when it was opened and last used, and whether it was revoked. A session ends when it has not
// been used for http.session_lifetime, at the latest 7 days after login, at logout, or when
// plant IT revokes the user's sessions (floorwatch user revoke NAME) or their password changes.
//
// This table is the core thread's copy; the store's http_sessions rows make sessions survive a
// restart. Pure: the caller gives the time and writes what the table says changed.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fw::http {

inline constexpr std::string_view kSessionCookie = "fw_session";
inline constexpr std::chrono::milliseconds kSessionAbsoluteLifetime{7LL * 24 * 3600 * 1000};
// last_seen is written to the store at most this often per session: an idle lifetime is hours.
inline constexpr std::chrono::milliseconds kSessionSeenWriteInterval{60'000};

struct Session {
    std::string id_hash;  // SHA-256 hex of the cookie's token
    std::string user;
    std::string csrf;     // sent back in X-CSRF-Token with every change
    std::string address;  // the address it was opened from
    std::int64_t created_ms = 0;
    std::int64_t last_seen_ms = 0;  // the last request, in memory; idle expiry counts from it
    std::int64_t expires_ms = 0;    // created + 7 days; idle expiry comes on top
    bool revoked = false;
    // What the store holds of last_seen_ms (written at most every kSessionSeenWriteInterval);
    // not a column. After a restart a session may end up to that interval early, never late.
    std::int64_t stored_seen_ms = 0;
};

class SessionTable {
  public:
    explicit SessionTable(std::chrono::milliseconds idle_lifetime)
        : idle_lifetime_(idle_lifetime) {}

    // Sessions read from the store at start; ended ones are left out.
    void load(std::vector<Session> sessions, std::int64_t now_ms);
    void set_idle_lifetime(std::chrono::milliseconds lifetime) { idle_lifetime_ = lifetime; }
    std::chrono::milliseconds idle_lifetime() const { return idle_lifetime_; }

    struct Opened {
        std::string token;  // for the cookie; never kept
        Session session;    // to store
    };
    Opened open(std::string user, std::string address, std::int64_t now_ms);

    struct Found {
        Session* session = nullptr;  // nullptr: no live session for this token
        // last_seen moved far enough that the store's copy should follow.
        bool store_last_seen = false;
    };
    // The live session of a cookie token, marked as used now.
    Found find(std::string_view token, std::int64_t now_ms);

    // Logout: the session's id hash, or nullopt when there was none.
    std::optional<std::string> close(std::string_view token);
    // Every live session of `user` ends; returns how many did.
    std::size_t revoke_user(std::string_view user);
    // Drops ended sessions from memory; returns their id hashes (the store deletes them).
    std::vector<std::string> sweep(std::int64_t now_ms);

    std::vector<Session> live(std::int64_t now_ms) const;

  private:
    bool alive(const Session& session, std::int64_t now_ms) const;

    std::chrono::milliseconds idle_lifetime_;
    std::map<std::string, Session, std::less<>> by_hash_;
};

}  // namespace fw::http
