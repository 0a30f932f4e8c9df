// See process_sha256.h.
#include "process_sha256.h"

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

namespace vs {

namespace {
// OpenSSL's (and BoringSSL's) one-shot digest: SHA256(data, size, digest) returns digest.
using Sha256Function = unsigned char* (*)(const unsigned char*, std::size_t, unsigned char*);

Sha256Function LookUpSha256() noexcept {
  return reinterpret_cast<Sha256Function>(ProcessSymbol("SHA256"));
}
}  // namespace

void* ProcessSymbol(const char* name) noexcept {
#if defined(__unix__) || defined(__APPLE__)
  return dlsym(RTLD_DEFAULT, name);
#else
  (void)name;
  return nullptr;
#endif
}

bool ProcessSha256(const void* data, std::size_t size, unsigned char digest[32]) noexcept {
  static const Sha256Function sha256 = LookUpSha256();  // thread-safe initialisation, once
  if (sha256 == nullptr) return false;
  return sha256(static_cast<const unsigned char*>(data), size, digest) == digest;
}

}  // namespace vs
