// See durable_append.h.
#include "durable_append.h"

#include <cerrno>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace vs {

#if defined(__unix__) || defined(__APPLE__)
namespace {
/** fdatasync, or fsync on macOS (no fdatasync in its headers; Node's fdatasync calls fsync there too). */
int SyncData(int fd) noexcept {
#if defined(__APPLE__)
  return ::fsync(fd);
#else
  return ::fdatasync(fd);
#endif
}
}  // namespace
#endif

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
  int synced = 0;
  do {
    synced = SyncData(fd);
  } while (synced != 0 && errno == EINTR);
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
