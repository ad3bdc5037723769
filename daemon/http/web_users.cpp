#include "daemon/http/web_users.hpp"

#include <boost/asio/post.hpp>

#include "daemon/core/overloaded.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_file.hpp"

namespace fw::http {
namespace {

class GatewayWebUsers final : public WebUserStore {
  public:
    GatewayWebUsers(boost::asio::io_context& core, store::Writer& writer, std::string store_path)
        : core_(core), writer_(writer), store_path_(std::move(store_path)) {}

    WebUsers load() override {
        auto connection = store::open_store_file(store_path_, store::OpenMode::read_only, false);
        return {load_credentials(connection.get()), load_sessions(connection.get())};
    }

    void write(WebUserChange change, Done done) override {
        store::WriteJob job;
        job.write = [change = std::move(change)](sqlite3* db) { apply_web_change(db, change); };
        job.done = [&core = core_, done = std::move(done)](const Status& written) {
            boost::asio::post(core, [done, written] { done(written); });
        };
        writer_.enqueue_job(std::move(job));
    }

  private:
    boost::asio::io_context& core_;
    store::Writer& writer_;
    std::string store_path_;
};

}  // namespace

void apply_web_change(sqlite3* db, const WebUserChange& change) {
    std::visit(
        Overloaded{
            [db](const web_change::PasswordSet& set) {
                write_password(db, set.user, set.password_hash, set.changed_ms, set.changed_by);
            },
            [db](const web_change::LanguageSet& set) {
                write_language(db, set.user, set.language);
            },
            [db](const web_change::SessionOpened& opened) { write_session(db, opened.session); },
            [db](const web_change::SessionSeen& seen) {
                write_session_seen(db, seen.id_hash, seen.last_seen_ms);
            },
            [db](const web_change::SessionsEnded& ended) { delete_sessions(db, ended.id_hashes); },
            [db](const web_change::UserSessionsEnded& ended) {
                delete_user_sessions(db, ended.user);
            },
        },
        change);
}

std::unique_ptr<WebUserStore> gateway_web_users(boost::asio::io_context& core,
                                                store::Writer& writer, std::string store_path) {
    return std::make_unique<GatewayWebUsers>(core, writer, std::move(store_path));
}

}  // namespace fw::http
