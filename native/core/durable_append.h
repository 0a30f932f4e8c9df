// Appending bytes to a file durably: every byte written (short writes continued, EINTR retried),
// then one fdatasync. The attestation log's `fsync` mode does this per record (through
// native/binding/log_append_wrap.cc, which builds the sealed line); plain C++17 and POSIX, no N-API.
#pragma once

#include <cstddef>

namespace vs {

/** How a durable append ended. */
enum class DurableAppendStatus : int {
  kOk = 0,
  kWriteFailed = 1,  // `write` failed; `error` is its errno, `written` the bytes written before
  kSyncFailed = 2,   // every byte written, `fdatasync` failed; `error` is its errno
  kUnsupported = 3,  // no POSIX write/fdatasync on this platform: the caller uses its own path
};

/** What `AppendDurably` did. */
struct DurableAppendResult {
  DurableAppendStatus status;
  int error;
  std::size_t written;
};

/**
 * Writes `size` bytes of `data` at the end of `fd` (opened for appending) and fdatasyncs it.
 * Thread safety: safe from any thread for distinct descriptors; one writer per descriptor.
 * Callback safety: no (it blocks on the disk).
 */
[[nodiscard]] DurableAppendResult AppendDurably(int fd, const char* data, std::size_t size) noexcept;

}  // namespace vs
