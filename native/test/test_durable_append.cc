// AppendDurably: every byte lands at the end of the file (several appends, a large one), and a
// bad descriptor reports kWriteFailed with its errno and nothing written.
#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstdio>
#include <string>

#include "check.h"
#include "durable_append.h"

#if defined(__unix__) || defined(__APPLE__)
namespace {

using vs::AppendDurably;
using vs::DurableAppendStatus;

std::string ReadAll(const char* path) {
  std::string text;
  FILE* file = std::fopen(path, "rb");
  if (!file) return text;
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, read);
  std::fclose(file);
  return text;
}

void TestAppendsEveryByte() {
  char path[] = "/tmp/vs-durable-append-XXXXXX";
  const int created = mkstemp(path);
  VS_CHECK(created >= 0);
  close(created);
  const int fd = open(path, O_WRONLY | O_APPEND);
  VS_CHECK(fd >= 0);
  const std::string first = "{\"seq\":1}\n";
  const std::string large(1 << 20, 'x');
  auto result = AppendDurably(fd, first.data(), first.size());
  VS_CHECK(result.status == DurableAppendStatus::kOk);
  VS_CHECK_EQ(result.written, first.size());
  result = AppendDurably(fd, large.data(), large.size());
  VS_CHECK(result.status == DurableAppendStatus::kOk);
  VS_CHECK_EQ(result.written, large.size());
  close(fd);
  VS_CHECK(ReadAll(path) == first + large);
  unlink(path);
}

void TestBadDescriptor() {
  const std::string line = "{}\n";
  const auto result = AppendDurably(-1, line.data(), line.size());
  VS_CHECK(result.status == DurableAppendStatus::kWriteFailed);
  VS_CHECK_EQ(result.error, EBADF);
  VS_CHECK_EQ(result.written, 0u);
}

}  // namespace

int main() {
  TestAppendsEveryByte();
  TestBadDescriptor();
  return VS_TEST_RESULT("test_durable_append");
}
#else
int main() {
  // AppendDurably reports kUnsupported here; the log then uses its JS path.
  VS_CHECK(vs::AppendDurably(0, "", 0).status == vs::DurableAppendStatus::kUnsupported);
  return VS_TEST_RESULT("test_durable_append");
}
#endif
