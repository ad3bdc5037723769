#include "daemon/http/passwords.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace fw::http {
namespace {

void start_sodium() {
    // Idempotent and thread-safe after the first call; -1 only when the system has no entropy.
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::string to_hex(const unsigned char* bytes, std::size_t size) {
    std::string hex(size * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes, size);
    hex.pop_back();
    return hex;
}

}  // namespace

std::string hash_password(std::string_view password) {
    start_sodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(
            out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error(
            fmt::format("hashing a password needs {} MiB of memory, which is not available",
                        crypto_pwhash_MEMLIMIT_INTERACTIVE / (1024 * 1024)));
    }
    return std::string(out.data());
}

bool verify_password(std::string_view stored, std::string_view password) {
    start_sodium();
    if (!is_password_hash(stored)) return false;
    const std::string terminated(stored);
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool is_password_hash(std::string_view text) {
    return text.starts_with("$argon2id$") && text.size() < crypto_pwhash_STRBYTES &&
           text.find('\0') == std::string_view::npos;
}

std::string password_problem(std::string_view password) {
    if (password.size() < kMinPasswordLength) {
        return fmt::format("a password needs at least {} characters", kMinPasswordLength);
    }
    if (password.size() > kMaxPasswordLength) {
        return fmt::format("a password may have at most {} characters", kMaxPasswordLength);
    }
    return {};
}

std::string random_hex(std::size_t bytes) {
    start_sodium();
    std::vector<unsigned char> buffer(bytes);
    randombytes_buf(buffer.data(), buffer.size());
    return to_hex(buffer.data(), buffer.size());
}

std::string sha256_hex_of(std::string_view text) {
    start_sodium();
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(text.data()),
                       text.size());
    return to_hex(digest.data(), digest.size());
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace fw::http
