// A single-producer single-consumer ring of interleaved float32 PCM frames, fixed capacity.
//
// The producer (a JS thread) writes with Write(); the consumer (the audio callback) reads with
// Read() or drops with DiscardAll()/DiscardUntil(). Neither side ever blocks or allocates: a full
// ring accepts part of a write and says how much, an empty ring yields fewer frames than asked.
//
// Layout follows rigtorp's SPSCQueue: the two positions live on separate cache lines, and each side
// keeps a private cached copy of the opposite position so it touches the other side's cache line
// only when the cached value says the ring looks full (producer) or empty (consumer).
// Positions are 64-bit frame counters that only grow (they cannot wrap in practice: 2^64 frames
// is millions of years at 192 kHz), so full and empty are told apart without a wasted slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace vs {

/** Result of creating a ring. */
enum class RingStatus : int {
  kOk = 0,
  kInvalidCapacity,  // capacityFrames is 0 or above kMaxCapacityFrames
  kInvalidChannels,  // channels is 0 or above kMaxChannels
  kOutOfMemory,
};

/**
 * Stable name of a status, e.g. "RING_INVALID_CAPACITY" (a static string).
 * Thread safety: any thread. Callback safety: yes.
 */
const char* RingStatusName(RingStatus status) noexcept;

class PcmRingBuffer {
 public:
  /** Upper bounds checked by Create(). */
  static constexpr uint32_t kMaxChannels = 32;
  static constexpr uint32_t kMaxCapacityFrames = 1u << 26;  // ~23 min at 48 kHz

  /**
   * Allocates a ring of `capacityFrames` frames of `channels` interleaved float32 samples.
   * Thread safety: any thread. Callback safety: no (allocates).
   */
  [[nodiscard]] static RingStatus Create(uint32_t capacityFrames, uint32_t channels,
                                         std::unique_ptr<PcmRingBuffer>* out) noexcept;

  PcmRingBuffer(const PcmRingBuffer&) = delete;
  PcmRingBuffer& operator=(const PcmRingBuffer&) = delete;

  /**
   * Copies up to `frames` frames from `samples` (frames * channels floats) into the ring and
   * returns how many it accepted (0 when full). Never blocks.
   * Thread safety: the single producer thread only. Callback safety: yes (wait-free, no allocation).
   */
  [[nodiscard]] size_t Write(const float* samples, size_t frames) noexcept;

  /**
   * Copies up to `frames` frames out of the ring into `out` and returns how many it copied
   * (0 when empty). Never blocks.
   * Thread safety: the single consumer thread only. Callback safety: yes (wait-free).
   */
  [[nodiscard]] size_t Read(float* out, size_t frames) noexcept;

  /**
   * Drops every frame the consumer can see now and returns how many.
   * Thread safety: the single consumer thread only. Callback safety: yes (wait-free).
   */
  size_t DiscardAll() noexcept;

  /**
   * Drops frames until the read position reaches `positionFrames` (a value of WritePosition())
   * or the ring is empty; returns how many it dropped.
   * Thread safety: the single consumer thread only. Callback safety: yes (wait-free).
   */
  size_t DiscardUntil(uint64_t positionFrames) noexcept;

  /**
   * Frames written since creation (the producer's position).
   * Thread safety: exact on the producer thread, a recent value elsewhere. Callback safety: yes.
   */
  uint64_t WritePosition() const noexcept { return writeFrames_.load(std::memory_order_acquire); }

  /**
   * Frames consumed (read or dropped) since creation (the consumer's position).
   * Thread safety: exact on the consumer thread, a recent value elsewhere. Callback safety: yes.
   */
  uint64_t ReadPosition() const noexcept { return readFrames_.load(std::memory_order_acquire); }

  /**
   * Frames waiting to be read: a lower bound on the consumer thread (the producer may add more),
   * an upper bound on the producer thread (the consumer may have taken some), a snapshot elsewhere.
   * Thread safety: any thread. Callback safety: yes.
   */
  size_t AvailableToRead() const noexcept;

  /**
   * Free frames: a lower bound on the producer thread, an upper bound on the consumer thread.
   * Thread safety: any thread. Callback safety: yes.
   */
  size_t AvailableToWrite() const noexcept;

  /** Capacity in frames. Thread safety: any thread (immutable). Callback safety: yes. */
  uint32_t CapacityFrames() const noexcept { return capacityFrames_; }

  /** Interleaved samples per frame. Thread safety: any thread (immutable). Callback safety: yes. */
  uint32_t Channels() const noexcept { return channels_; }

 private:
  // std::hardware_destructive_interference_size is not reliably available in C++17 toolchains;
  // 64 bytes is right for x86-64 and most ARM cores (Apple M-series prefetch pairs, so 128 would
  // be safer there but costs nothing correctness-wise).
  static constexpr size_t kCacheLineBytes = 64;

  PcmRingBuffer(uint32_t capacityFrames, uint32_t channels, std::unique_ptr<float[]> samples) noexcept;

  const uint32_t capacityFrames_;
  const uint32_t channels_;
  const std::unique_ptr<float[]> samples_;

  // Producer-owned line: the write position and the producer's cached copy of the read position.
  alignas(kCacheLineBytes) std::atomic<uint64_t> writeFrames_{0};
  uint64_t cachedReadFrames_ = 0;
  // Consumer-owned line: the read position and the consumer's cached copy of the write position.
  alignas(kCacheLineBytes) std::atomic<uint64_t> readFrames_{0};
  uint64_t cachedWriteFrames_ = 0;
  // Keeps whatever the allocator places next off the consumer's line.
  alignas(kCacheLineBytes) char padding_[kCacheLineBytes] = {};
};

}  // namespace vs
