// ProcessSha256 finds SHA-256 in the running process or answers false: this test binary links no
// OpenSSL, so where no library loaded one it must answer false (the addon's caller then takes its
// JS path instead of the process dying on an unresolved symbol); where one is loaded (a sanitizer
// runtime may pull it in) the digest of "abc" must be the published one (FIPS 180-2, B.1).
#include <cstring>

#include "check.h"
#include "process_sha256.h"

namespace {

void TestLooksUpSymbols() {
  VS_CHECK(vs::ProcessSymbol("vs_no_such_symbol_anywhere") == nullptr);
#if defined(__unix__) || defined(__APPLE__)
  VS_CHECK(vs::ProcessSymbol("malloc") != nullptr);
#endif
}

void TestDigestOrNothing() {
  unsigned char digest[32];
  std::memset(digest, 0, sizeof digest);
  const bool hashed = vs::ProcessSha256("abc", 3, digest);
  VS_CHECK(hashed == (vs::ProcessSymbol("SHA256") != nullptr || vs::ProcessSymbol("EVP_MD_fetch") != nullptr));
  if (hashed) {
    const unsigned char expected[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    VS_CHECK(std::memcmp(digest, expected, sizeof digest) == 0);
  } else {
    unsigned char untouched[32];
    std::memset(untouched, 0, sizeof untouched);
    VS_CHECK(std::memcmp(digest, untouched, sizeof digest) == 0);
  }
}

}  // namespace

int main() {
  TestLooksUpSymbols();
  TestDigestOrNothing();
  return VS_TEST_RESULT("test_process_sha256");
}
