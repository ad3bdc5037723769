#pragma once
// Transactions on a pg::Connection: an RAII Transaction that rolls back unless committed, and
// with_transaction(), which runs a piece of work in a transaction and runs it again when the server
// rolled it back for a serialization failure or a deadlock (README.md "Errors and retries").

#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "daemon/store/pg/connection.hpp"

namespace fw::pg {

enum class Isolation { read_committed, repeatable_read, serializable };

// BEGIN on construction; ROLLBACK on destruction unless commit() or rollback() ran first (an
// exception leaving the scope undoes everything). `SELECT ... FOR UPDATE` inside it holds its row
// locks until commit or rollback.
class Transaction {
  public:
    // Throws Error if the connection already has a transaction open (they do not nest).
    explicit Transaction(Connection& connection, Isolation isolation = Isolation::read_committed);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    // COMMIT, checked: throws Error when the server refused it (a serialization failure found at
    // commit, a deferred constraint) and also when the transaction had already failed, where
    // PostgreSQL answers COMMIT with a silent ROLLBACK. Either way the transaction is over.
    void commit();
    void rollback();

    // SET LOCAL lock_timeout: a lock wait (FOR UPDATE, UPDATE of a locked row) longer than this
    // fails with 55P03 (sqlstate::kLockNotAvailable) instead of waiting on.
    void set_lock_timeout(std::chrono::milliseconds timeout);

    template <typename... Args>
    Result execute(const Query& query, const Args&... args) {
        return connection_.execute(query, args...);
    }
    template <typename... Args>
    Result execute_unprepared(std::string_view sql, const Args&... args) {
        return connection_.execute_unprepared(sql, args...);
    }

    Connection& connection() { return connection_; }
    bool finished() const { return finished_; }

  private:
    Connection& connection_;
    bool finished_ = false;
};

struct TransactionOptions {
    Isolation isolation = Isolation::read_committed;
    // Runs of the work in all, the first included, before a transient error is passed on.
    int max_attempts = 5;
    // Before retry k the caller sleeps a random time between half and all of
    // min(first_backoff * 2^(k-1), max_backoff): random so that two transactions that collided
    // do not collide again at once, short because the other one usually commits in milliseconds.
    std::chrono::milliseconds first_backoff{5};
    std::chrono::milliseconds max_backoff{100};
    // Called before each retry with the error and the attempt that failed (from 1): for logs,
    // metrics and tests.
    std::function<void(const Error& error, int attempt)> on_retry{};
};

namespace detail {
void run_with_retries(Connection& connection, const TransactionOptions& options,
                      const std::function<void(Transaction&)>& work);
}  // namespace detail

// Runs `work(transaction)` in a transaction and commits it; returns what `work` returns. When the
// server rolls the transaction back for a serialization failure (40001) or a deadlock (40P01),
// in `work` or at commit, the transaction is rolled back and `work` runs again from the start in
// a new one, up to options.max_attempts in all; then that Error is thrown. Any other exception is
// thrown at once, after the rollback. So `work` must do nothing outside the database that cannot
// be done twice, and must not commit itself.
//
//   const auto total = pg::with_transaction(connection, [&](pg::Transaction& transaction) {
//       transaction.execute(kLockGateway, gateway);       // SELECT ... FOR UPDATE
//       ...
//       return total;
//   }, {.isolation = pg::Isolation::serializable});
template <typename Work>
auto with_transaction(Connection& connection, Work&& work, const TransactionOptions& options = {})
    -> std::invoke_result_t<Work&, Transaction&> {
    using Value = std::invoke_result_t<Work&, Transaction&>;
    if constexpr (std::is_void_v<Value>) {
        detail::run_with_retries(connection, options,
                                 [&](Transaction& transaction) { work(transaction); });
    } else {
        std::optional<Value> value;
        detail::run_with_retries(connection, options, [&](Transaction& transaction) {
            value.emplace(work(transaction));
        });
        return std::move(*value);
    }
}

}  // namespace fw::pg
