// A fixed-size single-producer single-consumer ring of voice events: the audio callback pushes,
// one control thread (the JS thread) pops. Entries are plain old data; a full ring drops the new
// event and counts it (the callback never waits). Positions are 64-bit counters that only grow,
// on separate cache lines, as in PcmRingBuffer.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vs {

/** What happened to a voice. The numbers cross to JS (src/audio/voice.ts): keep them stable. */
enum class VoiceEventKind : uint32_t {
  kStarted = 1,      // the voice's first frame was mixed
  kPosition = 2,     // frames of the voice mixed so far (at most once per period per voice)
  kDrained = 3,      // the voice was ended and everything written has been mixed
  kInterrupted = 4,  // the voice's interrupt fade is complete; what it held is dropped
  kUnderrun = 5,     // a started, not ended voice had fewer frames than the period needed
};

/** One event: which voice, what, and where (device frames rendered, voice frames mixed). */
struct VoiceEvent {
  uint32_t voiceId = 0;
  VoiceEventKind kind = VoiceEventKind::kStarted;
  uint64_t deviceFrame = 0;  // device output frame at which it happened
  uint64_t voiceFrame = 0;   // frames of this voice mixed at that point
};

class VoiceEventRing {
 public:
  /** Entries the ring holds (a power of two). */
  static constexpr size_t kCapacity = 4096;

  /**
   * Appends `event`; returns false (and counts it in Dropped()) when the ring is full.
   * Thread safety: the single producer (whoever renders). Callback safety: yes (wait-free).
   */
  bool Push(const VoiceEvent& event) noexcept {
    const uint64_t write = writeIndex_.load(std::memory_order_relaxed);
    if (write - cachedReadIndex_ >= kCapacity) {
      cachedReadIndex_ = readIndex_.load(std::memory_order_acquire);
      if (write - cachedReadIndex_ >= kCapacity) {
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return false;
      }
    }
    entries_[write & (kCapacity - 1)] = event;
    writeIndex_.store(write + 1, std::memory_order_release);
    return true;
  }

  /**
   * Copies up to `capacity` events into `out` (oldest first) and returns how many.
   * Thread safety: the single consumer thread. Callback safety: yes (wait-free).
   */
  size_t Pop(VoiceEvent* out, size_t capacity) noexcept {
    const uint64_t read = readIndex_.load(std::memory_order_relaxed);
    const uint64_t write = writeIndex_.load(std::memory_order_acquire);
    size_t count = 0;
    while (count < capacity && read + count < write) {
      out[count] = entries_[(read + count) & (kCapacity - 1)];
      ++count;
    }
    readIndex_.store(read + count, std::memory_order_release);
    return count;
  }

  /** Events dropped because the ring was full. Thread safety: any thread. Callback safety: yes. */
  uint64_t Dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kCacheLineBytes = 64;
  static_assert((kCapacity & (kCapacity - 1)) == 0, "kCapacity must be a power of two");

  std::array<VoiceEvent, kCapacity> entries_{};
  alignas(kCacheLineBytes) std::atomic<uint64_t> writeIndex_{0};
  uint64_t cachedReadIndex_ = 0;
  std::atomic<uint64_t> dropped_{0};
  alignas(kCacheLineBytes) std::atomic<uint64_t> readIndex_{0};
  alignas(kCacheLineBytes) char padding_[kCacheLineBytes] = {};
};

}  // namespace vs
