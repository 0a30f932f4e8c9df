// See durable_append.h.
#include "durable_append.h"

#include <cerrno>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace vs {

DurableAppendResult AppendDurably(int fd, const char* data, std::size_t size) noexcept {
#if defined(__unix__) || defined(__APPLE__)
  std::size_t written = 0;
  while (written < size) {
    const ssize_t wrote = ::write(fd, data + written, size - written);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return {DurableAppendStatus::kWriteFailed, errno, written};
    }
    written += static_cast<std::size_t>(wrote);
  }
#if defined(__APPLE__)
  // macOS has no fdatasync in its headers; fsync is what Node's fdatasync calls there too.
  int synced = ::fsync(fd);
#else
  int synced = ::fdatasync(fd);
#endif
  while (synced != 0 && errno == EINTR) {
#if defined(__APPLE__)
    synced = ::fsync(fd);
#else
    synced = ::fdatasync(fd);
#endif
  }
  if (synced != 0) return {DurableAppendStatus::kSyncFailed, errno, written};
  return {DurableAppendStatus::kOk, 0, written};
#else
  (void)fd;
  (void)data;
  (void)size;
  return {DurableAppendStatus::kUnsupported, 0, 0};
#endif
}

}  // namespace vs
