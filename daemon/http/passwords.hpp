#pragma once
// Password hashes: Argon2id through libsodium's crypto_pwhash_str, with its "interactive" limits
// (2 passes over 64 MiB: about 0.1 s on a desktop, under a second on a gateway's ARM core), in
// the self-describing PHC string form "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>", so a
// future change of limits still verifies old hashes. The CLI hashes (floorwatch user passwd),
// the daemon stores and verifies: a password never travels the control socket.
//
// Hashing and verifying take that long and that much memory on purpose: the daemon runs them
// on a thread of their own, never on the core thread.

#include <string>
#include <string_view>

namespace fw::http {

// Fewer characters than this are refused when a password is set.
inline constexpr std::size_t kMinPasswordLength = 8;
// More than this is refused when set and at login (hashing megabytes is a denial of service).
inline constexpr std::size_t kMaxPasswordLength = 1024;

// Throws std::runtime_error when libsodium cannot start or the memory for a hash is not there.
std::string hash_password(std::string_view password);

// True when `password` matches `stored`; false for a wrong password and for anything in
// `stored` that is not a hash this build can read.
bool verify_password(std::string_view stored, std::string_view password);

// Whether `text` looks like what hash_password() makes (the daemon accepts nothing else).
bool is_password_hash(std::string_view text);

// Why `password` cannot be set, or empty when it can.
std::string password_problem(std::string_view password);

// Random bytes from the kernel as lower-case hex (sessions, CSRF tokens).
std::string random_hex(std::size_t bytes);

// SHA-256 as lower-case hex: what the store keeps of a session token.
std::string sha256_hex_of(std::string_view text);

// Compares in time that does not depend on where the two differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace fw::http
