#include "daemon/store/pg/transaction.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <thread>

namespace fw::pg {
namespace {

std::string_view begin_statement(Isolation isolation) {
    switch (isolation) {
        case Isolation::read_committed:
            return "BEGIN ISOLATION LEVEL READ COMMITTED";
        case Isolation::repeatable_read:
            return "BEGIN ISOLATION LEVEL REPEATABLE READ";
        case Isolation::serializable:
            return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    }
    return "BEGIN";
}

std::chrono::microseconds backoff_before_retry(const TransactionOptions& options, int retry) {
    // Each thread draws its own numbers: two threads retrying the same conflict must not sleep
    // the same time.
    thread_local std::minstd_rand random(std::random_device{}());
    const std::chrono::milliseconds doubled =
        options.first_backoff * (std::int64_t{1} << std::min(retry - 1, 20));
    const auto ceiling = std::chrono::duration_cast<std::chrono::microseconds>(
        std::min(doubled, options.max_backoff));
    std::uniform_int_distribution<std::int64_t> pick(ceiling.count() / 2, ceiling.count());
    return std::chrono::microseconds(pick(random));
}

}  // namespace

Transaction::Transaction(Connection& connection, Isolation isolation) : connection_(connection) {
    if (connection_.in_transaction()) {
        throw Error({.doing = "starting a transaction",
                     .message = "a transaction is already open on this connection; they do not "
                                "nest (use one Transaction per unit of work)"});
    }
    connection_.run_script(begin_statement(isolation), "starting a transaction");
}

Transaction::~Transaction() {
    if (finished_) return;
    try {
        rollback();
    } catch (...) {
        // The connection broke: the server ends the transaction with the session anyway.
    }
}

void Transaction::commit() {
    if (finished_) {
        throw Error({.doing = "committing a transaction",
                     .message = "it was already committed or rolled back"});
    }
    finished_ = true;
    const Result result = connection_.run_script("COMMIT", "committing a transaction");
    if (result.command_tag() != "COMMIT") {
        throw Error({.doing = "committing a transaction",
                     .message = "a statement in it had failed, so the server rolled it back "
                                "instead; nothing of it was stored",
                     .sqlstate = std::string(sqlstate::kInFailedTransaction)});
    }
}

void Transaction::rollback() {
    if (finished_) return;
    finished_ = true;
    if (connection_.in_transaction()) {
        connection_.run_script("ROLLBACK", "rolling a transaction back");
    }
}

void Transaction::set_lock_timeout(std::chrono::milliseconds timeout) {
    connection_.run_script("SET LOCAL lock_timeout = " + std::to_string(timeout.count()),
                           "setting the lock timeout");
}

namespace detail {

void run_with_retries(Connection& connection, const TransactionOptions& options,
                      const std::function<void(Transaction&)>& work) {
    const int attempts = std::max(1, options.max_attempts);
    for (int attempt = 1;; ++attempt) {
        try {
            Transaction transaction(connection, options.isolation);
            work(transaction);
            transaction.commit();
            return;
        } catch (const Error& error) {
            // The transaction was rolled back on the way out of the try block.
            if (!error.is_transient() || error.connection_lost()) throw;
            if (attempt >= attempts) {
                ErrorInfo info = error.info();
                info.doing = "running a transaction (gave up after " + std::to_string(attempts) +
                             " attempts) while " + info.doing;
                throw Error(std::move(info));
            }
            if (options.on_retry) options.on_retry(error, attempt);
            std::this_thread::sleep_for(backoff_before_retry(options, attempt));
        }
    }
}

}  // namespace detail
}  // namespace fw::pg
