// ProcessSha256 with an OpenSSL in the process (as in node, whose binary exports its own): here a
// system libcrypto loaded into the global scope first, where the machine has one (else nothing to
// check). The digests must be the published ones (FIPS 180-2, B.1 and B.2) and agree from several
// threads (a context per thread).
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include <cstring>
#include <thread>
#include <vector>

#include "check.h"
#include "process_sha256.h"

namespace {

const unsigned char kAbc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
const char kTwoBlocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const unsigned char kTwoBlocksDigest[32] = {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
                                            0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};

bool Matches(const void* data, std::size_t size, const unsigned char* expected) {
  unsigned char digest[32];
  return vs::ProcessSha256(data, size, digest) && std::memcmp(digest, expected, sizeof digest) == 0;
}

}  // namespace

int main() {
#if defined(__unix__) || defined(__APPLE__)
  const char* names[] = {"libcrypto.so.3", "libcrypto.so", "libcrypto.dylib"};
  void* library = nullptr;
  for (const char* name : names) {
    if ((library = dlopen(name, RTLD_NOW | RTLD_GLOBAL)) != nullptr) break;
  }
  if (library != nullptr) {
    VS_CHECK(Matches("abc", 3, kAbc));
    VS_CHECK(Matches(kTwoBlocks, std::strlen(kTwoBlocks), kTwoBlocksDigest));
    std::vector<std::thread> threads;
    std::vector<int> agreed(4, 0);
    for (std::size_t index = 0; index < agreed.size(); ++index) {
      threads.emplace_back([&agreed, index] {
        for (int round = 0; round < 1000; ++round) agreed[index] += Matches("abc", 3, kAbc) ? 1 : 0;
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const int count : agreed) VS_CHECK_EQ(count, 1000);
  }
#endif
  return VS_TEST_RESULT("test_process_sha256_loaded");
}
