// SHA-256 by the OpenSSL of the process the addon runs in (the node binary carries one and exports
// its symbols), found at run time by name, never linked: a host whose binary exports none of it
// (another TLS library, a stripped or embedded Node, a test binary) makes `ProcessSha256` answer
// false, and the caller takes its own path, instead of the process dying on an unresolved symbol
// at the first call. Plain C++17; dlsym on POSIX, nothing found elsewhere.
#pragma once

#include <cstddef>

namespace vs {

/**
 * The address of the function or object `name` exported by the running process or a library it
 * loaded, or nullptr (none; not POSIX). Thread safety: safe from any thread. Callback safety: no.
 */
[[nodiscard]] void* ProcessSymbol(const char* name) noexcept;

/**
 * Writes the SHA-256 of `size` bytes of `data` to `digest` (32 bytes) with the process's own
 * SHA-256 (looked up once: OpenSSL 3's EVP functions, else a one-shot `SHA256`); false when the
 * process exports neither. Thread safety: safe from any thread (a context per thread). Callback
 * safety: no (the first call looks the functions up).
 */
[[nodiscard]] bool ProcessSha256(const void* data, std::size_t size, unsigned char digest[32]) noexcept;

}  // namespace vs
