#pragma once
// The web page's tables (schemas/0007_web_users.sql): password hashes and page language per user,
// and the sessions. The write functions run inside store WriteJobs on the writer thread and throw
// std::runtime_error to fail their job alone; the read functions run on the caller's connection
// (the daemon at start). Plain functions over a connection: no threads, no state.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/http/sessions.hpp"

struct sqlite3;

namespace fw::http {

struct Credential {
    std::string password_hash;  // passwords.hpp hash_password()
    std::string language;       // empty: http.language
};

std::map<std::string, Credential, std::less<>> load_credentials(sqlite3* db);
std::vector<Session> load_sessions(sqlite3* db);

// Sets a user's password hash (keeping their language) and ends their sessions: whoever knew the
// old password is signed out.
void write_password(sqlite3* db, const std::string& user, const std::string& password_hash,
                    std::int64_t changed_ms, const std::string& changed_by);
// A user without a password row has nobody to remember a language for: nothing is written.
void write_language(sqlite3* db, const std::string& user, const std::string& language);
void write_session(sqlite3* db, const Session& session);
void write_session_seen(sqlite3* db, const std::string& id_hash, std::int64_t last_seen_ms);
void delete_sessions(sqlite3* db, const std::vector<std::string>& id_hashes);
void delete_user_sessions(sqlite3* db, const std::string& user);

}  // namespace fw::http
