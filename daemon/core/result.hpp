#pragma once
// The daemon's one way to report an expected failure. Exceptions stay at the edges: a config that
// cannot be used, a store that cannot be opened at startup — the daemon cannot run and the
// message says what to fix. Everything that can go wrong in normal operation (a command the
// workflow refuses, an operator action on an alarm in the wrong state, a write the store did not
// make, a bad argument on the control socket) is a value:
//
//   Result<T>  a T, or an Error
//   Status     nothing, or an Error (a default-constructed Status is a success)
//
// Both are [[nodiscard]], so every function returning one makes its caller look at it:
//
//   Result<workflow::Command> parsed = parse_action(args, attachments);
//   if (!parsed) return reply.error(parsed.error());
//   submit(std::move(*parsed));
//
// The message is for the person who asked (operator, CLI user) or reads the log: what did not
// happen and, where it helps, what to do about it.

#include <string>
#include <utility>
#include <variant>

namespace fw {

struct Error {
    std::string message;
};

namespace detail {
inline const std::string& no_error() {
    static const std::string kEmpty;
    return kEmpty;
}
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // The value; only when ok() (otherwise std::bad_variant_access).
    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

    // Why not; empty when ok().
    const std::string& error() const {
        return ok() ? detail::no_error() : std::get<1>(state_).message;
    }

  private:
    std::variant<T, Error> state_;
};

class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : failed_(true), message_(std::move(error.message)) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }

    // Why not; empty when ok().
    const std::string& error() const { return message_; }

  private:
    bool failed_ = false;
    std::string message_;
};

}  // namespace fw
