#pragma once
// Where the page's users (password hashes, chosen languages) and sessions are kept, behind one
// interface, so the API is the same on a gateway (its SQLite store, written by the store's
// writer) and on a centre (its central store, SQLite or PostgreSQL, written by a store thread of
// its own: daemon/central/central_web.hpp).
//
//   WebApi (core) ──write(change, done)──▶ the store's own thread ──durable──▶ done (core)
//
// The API keeps what it needs in memory and writes through; the store is what a restart reads.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/http/web_store.hpp"

struct sqlite3;

namespace fw::store {
class Writer;
}

namespace fw::http {

// What changes, one kind each (web_store.hpp says what each does to the tables).
namespace web_change {
struct PasswordSet {
    std::string user;
    std::string password_hash;
    std::int64_t changed_ms = 0;
    std::string changed_by;
};
struct LanguageSet {
    std::string user;
    std::string language;
};
struct SessionOpened {
    Session session;
};
struct SessionSeen {
    std::string id_hash;
    std::int64_t last_seen_ms = 0;
};
struct SessionsEnded {
    std::vector<std::string> id_hashes;
};
struct UserSessionsEnded {
    std::string user;
};
}  // namespace web_change

using WebUserChange =
    std::variant<web_change::PasswordSet, web_change::LanguageSet, web_change::SessionOpened,
                 web_change::SessionSeen, web_change::SessionsEnded, web_change::UserSessionsEnded>;

struct WebUsers {
    std::map<std::string, Credential, std::less<>> credentials;
    std::vector<Session> sessions;
};

class WebUserStore {
  public:
    using Done = std::function<void(const Status& written)>;
    virtual ~WebUserStore() = default;
    // At start, on the core thread: the one read the API makes there. Throws std::exception with
    // the reason when the store cannot be read.
    virtual WebUsers load() = 0;
    // Queues `change`; `done` runs on the core thread once it is durable, or with why not.
    virtual void write(WebUserChange change, Done done) = 0;
};

// Applies one change on an SQLite connection, inside the caller's transaction. Throws
// std::runtime_error naming what failed.
void apply_web_change(sqlite3* db, const WebUserChange& change);

// A gateway's: read from `store_path` with a read-only connection, written by the store's
// writer, in its next transaction.
std::unique_ptr<WebUserStore> gateway_web_users(boost::asio::io_context& core,
                                                store::Writer& writer, std::string store_path);

}  // namespace fw::http
