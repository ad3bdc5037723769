#include "daemon/http/web_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <stdexcept>

#include "daemon/store/sqlite.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::http {
namespace {

using store::Statement;

bool next_row(sqlite3* db, Statement& statement) {
    const int rc = statement.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(
        fmt::format("reading web users and sessions failed: {}", sqlite3_errmsg(db)));
}

void run_or_throw(sqlite3* db, Statement& statement, std::string_view what) {
    if (statement.run() != SQLITE_DONE) {
        throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errmsg(db)));
    }
}

}  // namespace

std::map<std::string, Credential, std::less<>> load_credentials(sqlite3* db) {
    Statement select(db, "SELECT user, password_hash, language FROM user_credentials");
    std::map<std::string, Credential, std::less<>> credentials;
    while (next_row(db, select)) {
        credentials[select.column_text(0)] = Credential{
            select.column_text(1), select.column_is_null(2) ? "" : select.column_text(2)};
    }
    return credentials;
}

std::vector<Session> load_sessions(sqlite3* db) {
    Statement select(db,
                     "SELECT id_hash, user, csrf, address, created_ms, last_seen_ms, expires_ms, "
                     "revoked FROM http_sessions");
    std::vector<Session> sessions;
    while (next_row(db, select)) {
        Session session;
        session.id_hash = select.column_text(0);
        session.user = select.column_text(1);
        session.csrf = select.column_text(2);
        session.address = select.column_text(3);
        session.created_ms = select.column_int64(4);
        session.last_seen_ms = select.column_int64(5);
        session.expires_ms = select.column_int64(6);
        session.revoked = select.column_int64(7) != 0;
        sessions.push_back(std::move(session));
    }
    return sessions;
}

void write_password(sqlite3* db, const std::string& user, const std::string& password_hash,
                    std::int64_t changed_ms, const std::string& changed_by) {
    Statement upsert(db,
                     "INSERT INTO user_credentials (user, password_hash, changed_ms, changed_by) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user) DO UPDATE SET "
                     "password_hash = ?2, changed_ms = ?3, changed_by = ?4");
    upsert.bind(1, user);
    upsert.bind(2, password_hash);
    upsert.bind(3, changed_ms);
    upsert.bind(4, changed_by);
    run_or_throw(db, upsert, "storing a password hash");
    delete_user_sessions(db, user);
}

void write_language(sqlite3* db, const std::string& user, const std::string& language) {
    Statement update(db, "UPDATE user_credentials SET language = ?2 WHERE user = ?1");
    update.bind(1, user);
    update.bind(2, language);
    run_or_throw(db, update, "storing a user's language");
}

void write_session(sqlite3* db, const Session& session) {
    Statement insert(db,
                     "INSERT OR REPLACE INTO http_sessions (id_hash, user, csrf, address, "
                     "created_ms, last_seen_ms, expires_ms, revoked) VALUES (?1, ?2, ?3, ?4, ?5, "
                     "?6, ?7, ?8)");
    insert.bind(1, session.id_hash);
    insert.bind(2, session.user);
    insert.bind(3, session.csrf);
    insert.bind(4, session.address);
    insert.bind(5, session.created_ms);
    insert.bind(6, session.last_seen_ms);
    insert.bind(7, session.expires_ms);
    insert.bind(8, std::int64_t{session.revoked ? 1 : 0});
    run_or_throw(db, insert, "storing a web session");
}

void write_session_seen(sqlite3* db, const std::string& id_hash, std::int64_t last_seen_ms) {
    Statement update(db, "UPDATE http_sessions SET last_seen_ms = ?2 WHERE id_hash = ?1");
    update.bind(1, id_hash);
    update.bind(2, last_seen_ms);
    run_or_throw(db, update, "storing when a web session was used");
}

void delete_sessions(sqlite3* db, const std::vector<std::string>& id_hashes) {
    Statement remove(db, "DELETE FROM http_sessions WHERE id_hash = ?1");
    for (const auto& id_hash : id_hashes) {
        remove.bind(1, id_hash);
        run_or_throw(db, remove, "deleting a web session");
    }
}

void delete_user_sessions(sqlite3* db, const std::string& user) {
    Statement remove(db, "DELETE FROM http_sessions WHERE user = ?1");
    remove.bind(1, user);
    run_or_throw(db, remove, "deleting a user's web sessions");
}

}  // namespace fw::http
