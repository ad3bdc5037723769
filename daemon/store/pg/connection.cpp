#include "daemon/store/pg/connection.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <system_error>

#include "daemon/core/log.hpp"

namespace fw::pg {
namespace {

constexpr std::string_view kLogInstance = "postgresql";

// Type OIDs of the built-in types (PostgreSQL's catalog/pg_type.dat). They are fixed across
// versions; the header that names them ships only with the server's development files.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// PostgreSQL refuses a single value above 1 GB; say so before libpq's int lengths overflow.
constexpr std::size_t kMaxValueBytes = 1024UL * 1024 * 1024;

// libpq's messages end with a newline and may continue on tab-indented lines (hints).
std::string one_line(std::string_view text) {
    std::string line;
    line.reserve(text.size());
    bool pending_space = false;
    for (const char c : text) {
        if (c == '\n' || c == '\t' || c == '\r') {
            pending_space = !line.empty();
            continue;
        }
        if (pending_space && c != ' ') line += ' ';
        pending_space = false;
        line += c;
    }
    return line;
}

std::string field(const PGresult* result, int code) {
    const char* value = PQresultErrorField(result, code);
    return value != nullptr ? std::string(value) : std::string();
}

std::string compose_what(const ErrorInfo& info) {
    std::string text = info.doing + ": " + info.message;
    if (!info.detail.empty()) text += " (" + info.detail + ")";
    if (!info.sqlstate.empty()) text += " [SQLSTATE " + info.sqlstate + "]";
    return text;
}

// Warnings the server sends alongside a result go to the log; notices ("relation already exists,
// skipping") are expected chatter and would only add noise.
void receive_notice(void*, const PGresult* notice) {
    const std::string severity = field(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity == "WARNING") {
        log_warning(kLogInstance, "server warning: {}", one_line(PQresultErrorMessage(notice)));
    }
}

std::string describe(const PGconn* connection) {
    const auto text = [](const char* value) { return value != nullptr ? value : ""; };
    return fmt::format("database {} on {}:{} as {}", text(PQdb(connection)),
                       text(PQhost(connection)), text(PQport(connection)),
                       text(PQuser(connection)));
}

std::string format_double(double value) {
    std::array<char, 32> buffer{};
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    // Shortest text that reads back as the same double; "inf", "-inf" and "nan" are accepted by
    // float8in as they are.
    return std::string(buffer.data(), end);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// --- Error ---

Error::Error(ErrorInfo info) : std::runtime_error(compose_what(info)), info_(std::move(info)) {}

bool Error::is_transient() const {
    return info_.sqlstate == sqlstate::kSerializationFailure ||
           info_.sqlstate == sqlstate::kDeadlockDetected;
}

// --- Params ---

Params& Params::add(std::nullopt_t) {
    values_.push_back({});
    return *this;
}

Params& Params::add(bool value) {
    values_.push_back({value ? "true" : "false", false});
    return *this;
}

Params& Params::add(std::int64_t value) {
    values_.push_back({std::to_string(value), false});
    return *this;
}

Params& Params::add(double value) {
    values_.push_back({format_double(value), false});
    return *this;
}

Params& Params::add(std::string_view text) {
    // Text parameters travel as C strings: a NUL would silently cut the value short.
    if (text.find('\0') != std::string_view::npos) {
        throw Error({.doing = "binding parameter $" + std::to_string(values_.size() + 1),
                     .message = "text cannot contain NUL bytes (PostgreSQL refuses them); send "
                                "bytes as pg::ByteaView into a bytea column"});
    }
    values_.push_back({std::string(text), false});
    return *this;
}

Params& Params::add(ByteaView bytes) {
    values_.push_back({std::string(bytes.bytes), true});
    return *this;
}

// --- Row ---

bool Row::is_null(int column) const {
    if (column < 0 || column >= PQnfields(result_.get())) fail(column, "a value", "no such column");
    return PQgetisnull(result_.get(), row_, column) != 0;
}

int Row::column_index(std::string_view column_name) const {
    const int columns = PQnfields(result_.get());
    std::string names;
    for (int column = 0; column < columns; ++column) {
        const char* name = PQfname(result_.get(), column);
        if (column_name == name) return column;
        names += (column == 0 ? "" : ", ") + std::string(name);
    }
    throw Error({.doing = "reading column " + std::string(column_name),
                 .message = "the result has no such column (it has: " + names + ")"});
}

void Row::fail(int column, std::string_view read_as, std::string message) const {
    std::string name = "#" + std::to_string(column);
    if (column >= 0 && column < PQnfields(result_.get())) {
        name = std::string(PQfname(result_.get(), column)) + " (" + name + ")";
    }
    throw Error({.doing = fmt::format("reading column {} of row {} as {}", name, row_, read_as),
                 .message = std::move(message)});
}

std::string_view Row::raw(int column, std::string_view read_as) const {
    if (is_null(column)) {
        fail(column, read_as, "it is NULL; read it as std::optional to accept NULL");
    }
    return {PQgetvalue(result_.get(), row_, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row_, column))};
}

namespace {

bool is_integer_type(Oid type) {
    return type == kInt8Oid || type == kInt4Oid || type == kInt2Oid;
}

std::int64_t parse_int64(std::string_view text, bool& ok) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    ok = error == std::errc() && end == text.data() + text.size();
    return value;
}

}  // namespace

template <>
std::int64_t Row::read<std::int64_t>(int column) const {
    const std::string_view text = raw(column, "int64");
    if (!is_integer_type(PQftype(result_.get(), column))) {
        fail(column, "int64", "it is not a smallint, integer or bigint column");
    }
    bool ok = false;
    const std::int64_t value = parse_int64(text, ok);
    if (!ok) fail(column, "int64", "'" + std::string(text) + "' is not an integer");
    return value;
}

template <>
std::int32_t Row::read<std::int32_t>(int column) const {
    const std::int64_t value = read<std::int64_t>(column);
    if (value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
        fail(column, "int32", std::to_string(value) + " does not fit");
    }
    return static_cast<std::int32_t>(value);
}

template <>
std::uint64_t Row::read<std::uint64_t>(int column) const {
    const std::int64_t value = read<std::int64_t>(column);
    if (value < 0) fail(column, "uint64", std::to_string(value) + " is negative");
    return static_cast<std::uint64_t>(value);
}

template <>
double Row::read<double>(int column) const {
    const std::string_view text = raw(column, "double");
    const Oid type = PQftype(result_.get(), column);
    if (type != kFloat8Oid && type != kFloat4Oid && type != kNumericOid && !is_integer_type(type)) {
        fail(column, "double", "it is not a numeric column");
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        fail(column, "double", "'" + std::string(text) + "' is not a number");
    }
    return value;
}

template <>
bool Row::read<bool>(int column) const {
    const std::string_view text = raw(column, "bool");
    if (PQftype(result_.get(), column) != kBoolOid)
        fail(column, "bool", "it is not a boolean column");
    return text == "t";
}

template <>
std::string_view Row::read<std::string_view>(int column) const {
    const std::string_view text = raw(column, "text");
    if (PQftype(result_.get(), column) == kByteaOid) {
        fail(column, "text", "it is a bytea column; read it as pg::Bytea");
    }
    return text;
}

template <>
std::string Row::read<std::string>(int column) const {
    return std::string(read<std::string_view>(column));
}

template <>
Bytea Row::read<Bytea>(int column) const {
    const std::string_view text = raw(column, "bytea");
    if (PQftype(result_.get(), column) != kByteaOid)
        fail(column, "bytea", "it is not a bytea column");
    // Text-format results carry bytea in the hex format (bytea_output = hex, the default).
    if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
        fail(column, "bytea", "the server did not send hex format (is bytea_output 'escape'?)");
    }
    Bytea value;
    value.bytes.resize((text.size() - 2) / 2);
    for (std::size_t i = 0; i < value.bytes.size(); ++i) {
        const int high = hex_digit(text[2 + 2 * i]);
        const int low = hex_digit(text[3 + 2 * i]);
        if (high < 0 || low < 0) fail(column, "bytea", "invalid hex digit");
        value.bytes[i] = static_cast<char>(high * 16 + low);
    }
    return value;
}

// --- Result ---

Result::Result(pg_result* result) : result_(result, PQclear) {}

std::size_t Result::size() const {
    return static_cast<std::size_t>(PQntuples(result_.get()));
}

std::size_t Result::column_count() const {
    return static_cast<std::size_t>(PQnfields(result_.get()));
}

std::int64_t Result::affected_rows() const {
    const std::string_view text = PQcmdTuples(result_.get());
    bool ok = false;
    const std::int64_t count = parse_int64(text, ok);
    return ok ? count : 0;
}

std::string_view Result::command_tag() const {
    return PQcmdStatus(result_.get());
}

Row Result::operator[](std::size_t row) const {
    if (row >= size()) {
        throw Error({.doing = "reading row " + std::to_string(row),
                     .message = "the result has " + std::to_string(size()) + " rows"});
    }
    return Row(result_, static_cast<int>(row));
}

Row Result::single() const {
    if (size() != 1) {
        throw Error({.doing = "reading the single row of a result",
                     .message = "expected exactly one row, got " + std::to_string(size())});
    }
    return Row(result_, 0);
}

std::optional<Row> Result::first() const {
    if (empty()) return std::nullopt;
    return Row(result_, 0);
}

// --- Connection ---

void Connection::Finish::operator()(pg_conn* connection) const {
    PQfinish(connection);
}

Connection::Connection(const std::string& conninfo) {
    // Defaults first: with expand_dbname, what the conninfo says overrides them.
    const std::array<const char*, 5> keywords{"connect_timeout", "fallback_application_name",
                                              "client_encoding", "dbname", nullptr};
    const std::array<const char*, 5> values{"10", "floorwatch", "UTF8", conninfo.c_str(), nullptr};
    connection_.reset(PQconnectdbParams(keywords.data(), values.data(), 1));
    if (!connection_) {
        throw Error({.doing = "connecting to PostgreSQL",
                     .message = "libpq could not allocate a connection (out of memory)",
                     .connection_lost = true});
    }
    description_ = describe(connection_.get());
    if (PQstatus(connection_.get()) != CONNECTION_OK) {
        throw Error({.doing = "connecting to PostgreSQL (" + description_ + ")",
                     .message = one_line(PQerrorMessage(connection_.get())) +
                                ". Is the server running there, and does the conninfo name "
                                "the right host, port, database and user?",
                     .connection_lost = true});
    }
    PQsetNoticeReceiver(connection_.get(), receive_notice, nullptr);
}

Connection::~Connection() = default;

bool Connection::is_open() const {
    return connection_ && PQstatus(connection_.get()) == CONNECTION_OK;
}

bool Connection::in_transaction() const {
    if (!connection_) return false;
    const PGTransactionStatusType status = PQtransactionStatus(connection_.get());
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

int Connection::backend_pid() const {
    return connection_ ? PQbackendPID(connection_.get()) : 0;
}

Result Connection::check(pg_result* raw_result, std::string_view doing) {
    Result result(raw_result);
    if (raw_result == nullptr) {
        throw Error({.doing = std::string(doing),
                     .message = connection_ ? one_line(PQerrorMessage(connection_.get()))
                                            : "the connection was moved away",
                     .connection_lost = !is_open()});
    }
    switch (PQresultStatus(raw_result)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
            return result;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            throw Error({.doing = std::string(doing), .message = "COPY is not supported here"});
        default:
            break;
    }
    std::string message = field(raw_result, PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = one_line(PQresultErrorMessage(raw_result));
    if (message.empty()) message = one_line(PQerrorMessage(connection_.get()));
    throw Error({.doing = std::string(doing),
                 .message = std::move(message),
                 .sqlstate = field(raw_result, PG_DIAG_SQLSTATE),
                 .detail = field(raw_result, PG_DIAG_MESSAGE_DETAIL),
                 .constraint = field(raw_result, PG_DIAG_CONSTRAINT_NAME),
                 .connection_lost = !is_open()});
}

void Connection::prepare(const Query& query) {
    const std::string name(query.name);
    if (const auto found = prepared_.find(name); found != prepared_.end()) {
        if (found->second == query.sql) return;
        throw Error({.doing = "preparing " + name,
                     .message = "this connection already prepared that name with different SQL; "
                                "give each statement its own name"});
    }
    if (!connection_) {
        throw Error({.doing = "preparing " + name,
                     .message = "the connection was moved away",
                     .connection_lost = true});
    }
    std::string sql(query.sql);
    check(PQprepare(connection_.get(), name.c_str(), sql.c_str(), 0, nullptr), "preparing " + name);
    prepared_.emplace(name, std::move(sql));
}

// libpq's parallel arrays for one call, pointing into the Params they were made from.
struct Connection::ParamArrays {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<Oid> types;
};

Connection::ParamArrays Connection::param_arrays(const Params& params, std::string_view doing) {
    ParamArrays arrays;
    for (const auto& value : params.values_) {
        if (value.data && value.data->size() > kMaxValueBytes) {
            throw Error({.doing = std::string(doing),
                         .message = "a parameter is larger than 1 GB, PostgreSQL's limit"});
        }
        arrays.values.push_back(value.data ? value.data->c_str() : nullptr);
        arrays.lengths.push_back(value.data ? static_cast<int>(value.data->size()) : 0);
        arrays.formats.push_back(value.binary ? 1 : 0);
        // Binary values are always bytea; saying so lets unprepared SQL use them without a cast.
        arrays.types.push_back(value.binary ? kByteaOid : 0);
    }
    return arrays;
}

Result Connection::execute(const Query& query, const Params& params) {
    prepare(query);
    const std::string doing = "running " + std::string(query.name);
    const ParamArrays arrays = param_arrays(params, doing);
    const std::string name(query.name);
    return check(
        PQexecPrepared(connection_.get(), name.c_str(), static_cast<int>(params.values_.size()),
                       arrays.values.data(), arrays.lengths.data(), arrays.formats.data(), 0),
        doing);
}

Result Connection::execute_unprepared(std::string_view sql, const Params& params) {
    const std::string doing =
        "running " + one_line(sql.substr(0, 60)) + (sql.size() > 60 ? "..." : "");
    if (!connection_) {
        throw Error(
            {.doing = doing, .message = "the connection was moved away", .connection_lost = true});
    }
    const ParamArrays arrays = param_arrays(params, doing);
    const std::string text(sql);
    return check(
        PQexecParams(connection_.get(), text.c_str(), static_cast<int>(params.values_.size()),
                     arrays.types.data(), arrays.values.data(), arrays.lengths.data(),
                     arrays.formats.data(), 0),
        doing);
}

Result Connection::run_script(std::string_view sql, std::string_view doing) {
    if (!connection_) {
        throw Error({.doing = std::string(doing),
                     .message = "the connection was moved away",
                     .connection_lost = true});
    }
    const std::string text(sql);
    return check(PQexec(connection_.get(), text.c_str()), doing);
}

}  // namespace fw::pg
