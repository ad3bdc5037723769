#include "daemon/central/central_web.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/central/central_store.hpp"
#include "daemon/central/store_workers.hpp"
#include "daemon/core/overloaded.hpp"
#include "daemon/core/time.hpp"
#include "daemon/orders/order_store.hpp"

namespace fw::central {
namespace {

namespace json = boost::json;

// The central store keeps the page's tables under the gateway's names and columns
// (schemas/0007_web_users.sql, schemas/postgresql/0002_web_users.sql); "user" is quoted for
// PostgreSQL, where it is a reserved word.
constexpr Sql kCredentials{"web_credentials",
                           R"(SELECT "user", password_hash, language FROM user_credentials)"};
constexpr Sql kSessions{"web_sessions",
                        R"(SELECT id_hash, "user", csrf, address, created_ms, last_seen_ms,
                           expires_ms, revoked FROM http_sessions)"};
constexpr Sql kSetPassword{
    "web_set_password",
    R"(INSERT INTO user_credentials ("user", password_hash, changed_ms, changed_by)
       VALUES ($1, $2, $3, $4) ON CONFLICT ("user") DO UPDATE SET
       password_hash = excluded.password_hash, changed_ms = excluded.changed_ms,
       changed_by = excluded.changed_by)"};
constexpr Sql kSetLanguage{"web_set_language",
                           R"(UPDATE user_credentials SET language = $2 WHERE "user" = $1)"};
constexpr Sql kOpenSession{
    "web_open_session",
    R"(INSERT INTO http_sessions (id_hash, "user", csrf, address, created_ms, last_seen_ms,
       expires_ms, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id_hash) DO UPDATE SET last_seen_ms = excluded.last_seen_ms,
       expires_ms = excluded.expires_ms, revoked = excluded.revoked)"};
constexpr Sql kSessionSeen{"web_session_seen",
                           "UPDATE http_sessions SET last_seen_ms = $2 WHERE id_hash = $1"};
constexpr Sql kEndSession{"web_end_session", "DELETE FROM http_sessions WHERE id_hash = $1"};
constexpr Sql kEndUserSessions{"web_end_user_sessions",
                               R"(DELETE FROM http_sessions WHERE "user" = $1)"};

// The one thread that writes the page's tables (StoreWorkers: bounded queue, reopens a lost
// connection). Apart from the sync threads, so that a sign-in never queues behind an ingest.
constexpr std::size_t kWebWriteQueue = 1'000;
// A centre's page calls a gateway connected when it was heard from this many ack timeouts ago at
// most: the same window the centre resends down events in (central_service.cpp).
constexpr int kConnectedWithinTimeouts = 3;

void apply(SqlSession& db, const http::WebUserChange& change) {
    std::visit(Overloaded{
                   [&db](const http::web_change::PasswordSet& set) {
                       db.run(kSetPassword, set.user, set.password_hash, set.changed_ms,
                              set.changed_by);
                       // Whoever knew the old password is signed out.
                       db.run(kEndUserSessions, set.user);
                   },
                   [&db](const http::web_change::LanguageSet& set) {
                       db.run(kSetLanguage, set.user, set.language);
                   },
                   [&db](const http::web_change::SessionOpened& opened) {
                       const auto& s = opened.session;
                       db.run(kOpenSession, s.id_hash, s.user, s.csrf, s.address, s.created_ms,
                              s.last_seen_ms, s.expires_ms, std::int64_t{s.revoked ? 1 : 0});
                   },
                   [&db](const http::web_change::SessionSeen& seen) {
                       db.run(kSessionSeen, seen.id_hash, seen.last_seen_ms);
                   },
                   [&db](const http::web_change::SessionsEnded& ended) {
                       for (const auto& id_hash : ended.id_hashes) db.run(kEndSession, id_hash);
                   },
                   [&db](const http::web_change::UserSessionsEnded& ended) {
                       db.run(kEndUserSessions, ended.user);
                   },
               },
               change);
}

class CentralWebUsers final : public http::WebUserStore {
  public:
    CentralWebUsers(boost::asio::io_context& core, StoreLocation location)
        : core_(core),
          location_(std::move(location)),
          workers_(
              "central:web", [location = location_] { return CentralStore::open(location, false); },
              1, kWebWriteQueue) {
        workers_.start();
    }
    ~CentralWebUsers() override { workers_.stop(); }
    CentralWebUsers(const CentralWebUsers&) = delete;
    CentralWebUsers& operator=(const CentralWebUsers&) = delete;

    http::WebUsers load() override {
        http::WebUsers users;
        CentralStore::open(location_, true)->read_tables([&users](SqlSession& db) {
            users = {};
            for (const auto row : db.run(kCredentials)) {
                users.credentials[row.text(0)] =
                    http::Credential{row.text(1), row.optional_text(2).value_or("")};
            }
            for (const auto row : db.run(kSessions)) {
                http::Session session;
                session.id_hash = row.text(0);
                session.user = row.text(1);
                session.csrf = row.text(2);
                session.address = row.text(3);
                session.created_ms = row.integer(4);
                session.last_seen_ms = row.integer(5);
                session.expires_ms = row.integer(6);
                session.revoked = row.integer(7) != 0;
                users.sessions.push_back(std::move(session));
            }
        });
        return users;
    }

    void write(http::WebUserChange change, Done done) override {
        const auto report = [&core = core_, done](const Status& written) {
            boost::asio::post(core, [done, written] { done(written); });
        };
        workers_.post(
            "web",
            [change = std::move(change), report](CentralStore& store) {
                store.write_tables([&change](SqlSession& db) { apply(db, change); });
                report(Status());
            },
            [report](const std::string& why) { report(Status(Error{why})); });
    }

  private:
    boost::asio::io_context& core_;
    StoreLocation location_;
    StoreWorkers workers_;
};

// One read pool worker's view of the central store: its own connection, opened on first use on
// the worker's thread, and the fold of every order, read again only when order_events grew.
class CentralReadSource final : public http::ReadSource {
  public:
    CentralReadSource(StoreLocation location, std::int64_t connected_within_ms)
        : location_(std::move(location)), connected_within_ms_(connected_within_ms) {}

    const orders::OrderIndex& orders() override {
        auto& db = store();
        const std::uint64_t count = db.order_event_count();
        if (!loaded_ || count != events_held_) {
            auto stored = db.load_orders();
            // What was read, not what was counted: an event stored between the two reads makes
            // the next count differ, and the fold is read again then.
            events_held_ = stored.events.size() + stored.unreadable.size();
            index_ = orders::index_orders(stored.events);
            gateways_.clear();
            for (const auto& row : db.orders()) {
                gateways_[row.order_id] = row.gateway.value_or("(centre)");
            }
            loaded_ = true;
        }
        return index_;
    }

    std::vector<orders::IncidentRecord> incidents() override { return store().incidents(); }

    std::optional<http::StoredFile> attachment(const std::string& sha256) override {
        auto stored = store().attachment(sha256);
        if (!stored) return std::nullopt;
        return http::StoredFile{stored->attachment.media_type, stored->attachment.name,
                                std::move(stored->data)};
    }

    store::Reader* readings() override { return nullptr; }
    alarms::AlarmReader* alarms() override { return nullptr; }

    std::optional<std::string> gateway_of(std::string_view order_id) const override {
        const auto found = gateways_.find(order_id);
        if (found != gateways_.end()) return found->second;
        // Folded but not yet in central_orders (a read between the two): the id says whose.
        return order_origin(order_id);
    }

    json::object sync_state() override {
        const std::int64_t now = wall_now_ms();
        json::array gateways;
        for (const auto& gateway : store().gateways()) {
            const bool connected =
                gateway.last_message_ms && now - *gateway.last_message_ms <= connected_within_ms_;
            gateways.push_back(json::object{
                {"gateway", gateway.gateway},
                {"connected", connected},
                {"verdict", sync::verdict_name(gateway.verdict)},
                {"message", gateway.message},
                {"incarnation", gateway.incarnation ? json::value(*gateway.incarnation) : nullptr},
                {"backlog", gateway.backlog()},
                {"last_hello_ms", optional_ms(gateway.last_hello_ms)},
                {"last_message_ms", optional_ms(gateway.last_message_ms)},
                {"last_ack_ms", optional_ms(gateway.last_ack_ms)},
                {"quarantined", gateway.quarantined},
                {"integrity_alarms", gateway.integrity_alarms},
                {"wanted_attachments", gateway.wanted_attachments},
                {"cursors",
                 {{"received", gateway.received},
                  {"next", gateway.next_sequence},
                  {"acked", gateway.acked},
                  {"down_next", gateway.down_next},
                  {"down_acked", gateway.down_acked}}}});
        }
        return {{"gateways", std::move(gateways)}};
    }

  private:
    static json::value optional_ms(const std::optional<std::int64_t>& ms) {
        return ms ? json::value(*ms) : json::value(nullptr);
    }

    CentralStore& store() {
        if (!store_ || store_->broken()) {
            store_ = CentralStore::open(location_, true);
            loaded_ = false;
        }
        return *store_;
    }

    StoreLocation location_;
    std::int64_t connected_within_ms_;
    std::unique_ptr<CentralStore> store_;
    bool loaded_ = false;
    std::uint64_t events_held_ = 0;
    orders::OrderIndex index_;
    std::map<std::string, std::string, std::less<>> gateways_;
};

}  // namespace

http::WebApiBackend central_web_backend(boost::asio::io_context& core, const Config& config) {
    const StoreLocation location{config.store.path, config.sync->postgresql};
    const std::int64_t connected_within =
        kConnectedWithinTimeouts * static_cast<std::int64_t>(config.sync->ack_timeout.count());
    http::WebApiBackend backend;
    backend.role = "central";
    backend.open_reads = [location, connected_within]() -> std::unique_ptr<http::ReadSource> {
        return std::make_unique<CentralReadSource>(location, connected_within);
    };
    backend.users = std::make_unique<CentralWebUsers>(core, location);
    return backend;
}

}  // namespace fw::central
