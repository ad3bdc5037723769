#pragma once
// A thin RAII wrapper over libpq for the central store on PostgreSQL (README.md): one connection,
// statements prepared once per connection by name, typed parameters, typed access to result rows,
// and errors that carry the server's SQLSTATE. Transactions are in transaction.hpp, migrations in
// migrations.hpp.
//
// A Connection is used by one thread at a time (libpq's rule); give each store thread its own.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

// libpq's opaque types (libpq-fe.h), so that users of this header need not include libpq.
struct pg_conn;
struct pg_result;

namespace fw::pg {

// The SQLSTATE codes floorwatch acts on (PostgreSQL's documentation, "Appendix A. Error Codes").
namespace sqlstate {
inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kForeignKeyViolation = "23503";
inline constexpr std::string_view kInFailedTransaction = "25P02";
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kDeadlockDetected = "40P01";
inline constexpr std::string_view kLockNotAvailable = "55P03";
}  // namespace sqlstate

struct ErrorInfo {
    // What floorwatch was doing: "connecting to PostgreSQL (...)", "running insert_event".
    std::string doing{};
    // The server's primary message, or libpq's when the server said nothing.
    std::string message{};
    // Five characters from the server; empty when the error is not the server's.
    std::string sqlstate{};
    // The server's DETAIL line, e.g. which key already exists.
    std::string detail{};
    // The constraint a 23xxx error names, if any.
    std::string constraint{};
    // The connection is unusable: make a new Connection.
    bool connection_lost = false;
};

// Every failure of this wrapper. what() reads
// "<doing>: <message> (<detail>) [SQLSTATE <code>]" so that a log line alone says what to fix.
class Error : public std::runtime_error {
  public:
    explicit Error(ErrorInfo info);

    const ErrorInfo& info() const { return info_; }
    const std::string& sqlstate() const { return info_.sqlstate; }
    const std::string& server_message() const { return info_.message; }
    const std::string& doing() const { return info_.doing; }
    bool connection_lost() const { return info_.connection_lost; }
    // A serialization failure (40001) or a deadlock (40P01): the server rolled the transaction
    // back because of another one, and running it again from the start may succeed.
    bool is_transient() const;

  private:
    ErrorInfo info_;
};

// Bytes for a bytea parameter. They are sent in binary format, so any byte (NUL included) goes as
// it is; the SQL must give the parameter the bytea type (a bytea column, or `$1::bytea`).
struct ByteaView {
    std::string_view bytes;
};

// A bytea column's value as read back.
struct Bytea {
    std::string bytes;
    bool operator==(const Bytea&) const = default;
};

// The parameters of one statement, $1, $2, ... in the order they are added. Text format except
// bytea; integers and doubles are written as PostgreSQL reads them back exactly.
class Params {
  public:
    Params& add(std::nullopt_t);
    Params& add(bool value);
    Params& add(std::int64_t value);
    // Any other integer type. bigint is signed: an unsigned value above its maximum is refused
    // (Error) rather than wrapped into a negative number.
    template <std::integral Integer>
    requires(!std::same_as<Integer, bool> &&
             !std::same_as<Integer, std::int64_t>) Params& add(Integer value);
    Params& add(double value);
    Params& add(std::string_view text);
    Params& add(const char* text) { return add(std::string_view(text)); }
    Params& add(const std::string& text) { return add(std::string_view(text)); }
    Params& add(ByteaView bytes);
    Params& add(const Bytea& bytes) { return add(ByteaView{bytes.bytes}); }
    template <typename T>
    Params& add(const std::optional<T>& value) {
        return value ? add(*value) : add(std::nullopt);
    }

    std::size_t size() const { return values_.size(); }
    void reserve(std::size_t count) { values_.reserve(count); }

  private:
    friend class Connection;
    struct Value {
        std::optional<std::string> data;  // nullopt = SQL NULL
        bool binary = false;
    };
    std::vector<Value> values_;
};

// The C++ types a column can be read as, alone or in std::optional (NULL = nullopt).
// A std::string_view points into the result and is valid while the Result or a Row of it lives.
template <typename T>
concept ColumnType = std::same_as<T, std::int64_t> || std::same_as<T, std::int32_t> ||
    std::same_as<T, std::uint64_t> || std::same_as<T, double> || std::same_as<T, bool> ||
    std::same_as<T, std::string> || std::same_as<T, std::string_view> || std::same_as<T, Bytea>;

namespace detail {
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
}  // namespace detail

// One row of a Result. It shares the result's memory, so it stays valid on its own:
// `auto row = connection.execute(kFind, id).single();` is fine. Columns by index (from 0) or name.
// Reading a NULL into a type that is not std::optional, or a column of an incompatible type
// (bytea as text, text as a number), throws Error naming the column.
class Row {
  public:
    template <typename T>
    T get(int column) const {
        if constexpr (detail::IsOptional<T>::value) {
            static_assert(ColumnType<typename T::value_type>, "unsupported column type");
            if (is_null(column)) return std::nullopt;
            return T(read<typename T::value_type>(column));
        } else {
            static_assert(ColumnType<T>, "unsupported column type");
            return read<T>(column);
        }
    }
    template <typename T>
    T get(std::string_view column_name) const {
        return get<T>(column_index(column_name));
    }

    bool is_null(int column) const;
    int column_index(std::string_view column_name) const;  // throws Error if there is none
    std::size_t index() const { return static_cast<std::size_t>(row_); }

  private:
    friend class Result;
    Row(std::shared_ptr<const pg_result> result, int row) : result_(std::move(result)), row_(row) {}
    template <ColumnType T>
    T read(int column) const;
    std::string_view raw(int column, std::string_view read_as) const;
    [[noreturn]] void fail(int column, std::string_view read_as, std::string message) const;

    std::shared_ptr<const pg_result> result_;
    int row_;
};

template <>
std::int64_t Row::read<std::int64_t>(int column) const;
template <>
std::int32_t Row::read<std::int32_t>(int column) const;
template <>
std::uint64_t Row::read<std::uint64_t>(int column) const;
template <>
double Row::read<double>(int column) const;
template <>
bool Row::read<bool>(int column) const;
template <>
std::string Row::read<std::string>(int column) const;
template <>
std::string_view Row::read<std::string_view>(int column) const;
template <>
Bytea Row::read<Bytea>(int column) const;

// What a statement returned: its rows (for SELECT and ... RETURNING) and the count of rows it
// changed (INSERT, UPDATE, DELETE).
class Result {
  public:
    class Iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Row;
        using difference_type = std::ptrdiff_t;
        Iterator(std::shared_ptr<const pg_result> result, int row)
            : result_(std::move(result)), row_(row) {}
        Row operator*() const { return Row(result_, row_); }
        Iterator& operator++() {
            ++row_;
            return *this;
        }
        bool operator==(const Iterator& other) const { return row_ == other.row_; }

      private:
        std::shared_ptr<const pg_result> result_;
        int row_;
    };

    std::size_t size() const;  // rows
    bool empty() const { return size() == 0; }
    std::size_t column_count() const;
    std::int64_t affected_rows() const;
    // The server's command tag: "SELECT 3", "INSERT 0 1", "COMMIT", ...
    std::string_view command_tag() const;
    Row operator[](std::size_t row) const;  // throws Error past the last row
    // The only row; throws Error when there are none or several (`SELECT ... WHERE id = $1`).
    Row single() const;
    // The first row, or nullopt when there are none.
    std::optional<Row> first() const;
    Iterator begin() const { return Iterator(result_, 0); }
    Iterator end() const { return Iterator(result_, static_cast<int>(size())); }

  private:
    friend class Connection;
    // Takes ownership (PQclear when the Result and every Row of it are gone).
    explicit Result(pg_result* result);
    // Shared with the rows handed out, which may outlive this Result.
    std::shared_ptr<pg_result> result_;
};

// A statement the connection prepares under `name` the first time it runs it and reuses after:
//   constexpr pg::Query kInsertEvent{"insert_event", "INSERT INTO order_events ... $1, $2 ..."};
// Names are per connection, so every connection prepares for itself, once.
struct Query {
    std::string_view name;
    std::string_view sql;
};

class Connection {
  public:
    // Connects with a libpq conninfo string ("host=/run/postgresql dbname=floorwatch", or a
    // postgresql:// URI). Waits at most 10 s unless the conninfo says connect_timeout. Throws
    // Error naming the server and database and saying what to check when it cannot connect.
    explicit Connection(const std::string& conninfo);
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // Runs `query`, preparing it first if this connection has not yet. Throws Error on failure
    // (the server's, or a name already prepared with different SQL).
    Result execute(const Query& query, const Params& params);
    template <typename... Args>
    Result execute(const Query& query, const Args&... args) {
        return execute(query, make_params(args...));
    }

    // Runs SQL once without preparing it (administration, tests): same parameters and errors.
    Result execute_unprepared(std::string_view sql, const Params& params);
    template <typename... Args>
    Result execute_unprepared(std::string_view sql, const Args&... args) {
        return execute_unprepared(sql, make_params(args...));
    }

    // Runs SQL text as it is, without parameters; several statements separated by `;` are
    // allowed (migrations, BEGIN/COMMIT, SET). Returns the last statement's result.
    Result run_script(std::string_view sql, std::string_view doing);

    // Whether the connection still works (false after the server went away).
    bool is_open() const;
    // Whether the server has a transaction block open on this connection (also when it failed).
    bool in_transaction() const;
    // The server process serving this connection (pg_stat_activity.pid, pg_locks.pid).
    int backend_pid() const;
    // "database floorwatch on /run/postgresql:5432 as floorwatch", for messages.
    const std::string& description() const { return description_; }

    template <typename... Args>
    static Params make_params(const Args&... args) {
        Params params;
        params.reserve(sizeof...(args));
        (params.add(args), ...);
        return params;
    }

  private:
    struct Finish {
        void operator()(pg_conn* connection) const;
    };
    struct ParamArrays;
    static ParamArrays param_arrays(const Params& params, std::string_view doing);
    void prepare(const Query& query);
    Result check(pg_result* result, std::string_view doing);

    std::unique_ptr<pg_conn, Finish> connection_;
    std::unordered_map<std::string, std::string> prepared_;  // statement name -> its SQL
    std::string description_;
};

// --- template definitions ---

template <std::integral Integer>
requires(!std::same_as<Integer, bool> &&
         !std::same_as<Integer, std::int64_t>) Params& Params::add(Integer value) {
    if constexpr (std::is_unsigned_v<Integer> && sizeof(Integer) >= sizeof(std::int64_t)) {
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            throw Error({.doing = "binding parameter $" + std::to_string(values_.size() + 1),
                         .message = std::to_string(value) + " does not fit in a bigint"});
        }
    }
    return add(static_cast<std::int64_t>(value));
}

}  // namespace fw::pg
