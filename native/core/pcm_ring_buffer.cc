#include "pcm_ring_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace vs {

const char* RingStatusName(RingStatus status) noexcept {
  switch (status) {
    case RingStatus::kOk: return "OK";
    case RingStatus::kInvalidCapacity: return "RING_INVALID_CAPACITY";
    case RingStatus::kInvalidChannels: return "RING_INVALID_CHANNELS";
    case RingStatus::kOutOfMemory: return "RING_OUT_OF_MEMORY";
  }
  return "RING_UNKNOWN_STATUS";
}

RingStatus PcmRingBuffer::Create(uint32_t capacityFrames, uint32_t channels,
                                 std::unique_ptr<PcmRingBuffer>* out) noexcept {
  if (capacityFrames == 0 || capacityFrames > kMaxCapacityFrames) return RingStatus::kInvalidCapacity;
  if (channels == 0 || channels > kMaxChannels) return RingStatus::kInvalidChannels;
  const size_t sampleCount = static_cast<size_t>(capacityFrames) * channels;
  std::unique_ptr<float[]> samples(new (std::nothrow) float[sampleCount]());
  if (!samples) return RingStatus::kOutOfMemory;
  // Aligned (C++17) nothrow new: the class is over-aligned for its cache-line members.
  PcmRingBuffer* ring = new (std::nothrow) PcmRingBuffer(capacityFrames, channels, std::move(samples));
  if (ring == nullptr) return RingStatus::kOutOfMemory;
  out->reset(ring);
  return RingStatus::kOk;
}

PcmRingBuffer::PcmRingBuffer(uint32_t capacityFrames, uint32_t channels,
                             std::unique_ptr<float[]> samples) noexcept
    : capacityFrames_(capacityFrames), channels_(channels), samples_(std::move(samples)) {}

size_t PcmRingBuffer::Write(const float* samples, size_t frames) noexcept {
  // Only this thread stores writeFrames_, so a relaxed load sees its own latest value.
  const uint64_t write = writeFrames_.load(std::memory_order_relaxed);
  uint64_t freeFrames = capacityFrames_ - (write - cachedReadFrames_);
  if (freeFrames < frames) {
    // Acquire pairs with the consumer's release: its reads of the slots we are about to reuse
    // happened before we overwrite them.
    cachedReadFrames_ = readFrames_.load(std::memory_order_acquire);
    freeFrames = capacityFrames_ - (write - cachedReadFrames_);
  }
  const size_t count = static_cast<size_t>(std::min<uint64_t>(frames, freeFrames));
  if (count == 0) return 0;

  const size_t start = static_cast<size_t>(write % capacityFrames_);
  const size_t first = std::min<size_t>(count, capacityFrames_ - start);
  std::memcpy(&samples_[start * channels_], samples, first * channels_ * sizeof(float));
  if (count > first) {
    std::memcpy(&samples_[0], samples + first * channels_, (count - first) * channels_ * sizeof(float));
  }
  // Release publishes the copied samples before the new position.
  writeFrames_.store(write + count, std::memory_order_release);
  return count;
}

size_t PcmRingBuffer::Read(float* out, size_t frames) noexcept {
  const uint64_t read = readFrames_.load(std::memory_order_relaxed);
  uint64_t readyFrames = cachedWriteFrames_ - read;
  if (readyFrames < frames) {
    // Acquire pairs with the producer's release: the samples up to this position are visible.
    cachedWriteFrames_ = writeFrames_.load(std::memory_order_acquire);
    readyFrames = cachedWriteFrames_ - read;
  }
  const size_t count = static_cast<size_t>(std::min<uint64_t>(frames, readyFrames));
  if (count == 0) return 0;

  const size_t start = static_cast<size_t>(read % capacityFrames_);
  const size_t first = std::min<size_t>(count, capacityFrames_ - start);
  std::memcpy(out, &samples_[start * channels_], first * channels_ * sizeof(float));
  if (count > first) {
    std::memcpy(out + first * channels_, &samples_[0], (count - first) * channels_ * sizeof(float));
  }
  // Release: our copies out of these slots happen before the producer may reuse them.
  readFrames_.store(read + count, std::memory_order_release);
  return count;
}

size_t PcmRingBuffer::DiscardAll() noexcept {
  return DiscardUntil(UINT64_MAX);
}

size_t PcmRingBuffer::DiscardUntil(uint64_t positionFrames) noexcept {
  const uint64_t read = readFrames_.load(std::memory_order_relaxed);
  cachedWriteFrames_ = writeFrames_.load(std::memory_order_acquire);
  const uint64_t target = std::min(positionFrames, cachedWriteFrames_);
  if (target <= read) return 0;
  readFrames_.store(target, std::memory_order_release);
  return static_cast<size_t>(target - read);
}

size_t PcmRingBuffer::AvailableToRead() const noexcept {
  // Read position first: it never passes the write position, so a later write load is >= it.
  const uint64_t read = readFrames_.load(std::memory_order_acquire);
  const uint64_t write = writeFrames_.load(std::memory_order_acquire);
  return static_cast<size_t>(write - read);
}

size_t PcmRingBuffer::AvailableToWrite() const noexcept {
  const uint64_t write = writeFrames_.load(std::memory_order_acquire);
  const uint64_t read = readFrames_.load(std::memory_order_acquire);
  // Seen from a third thread the read position may have moved past the write value loaded
  // above; clamp instead of underflowing.
  const uint64_t used = write > read ? write - read : 0;
  return static_cast<size_t>(used >= capacityFrames_ ? 0 : capacityFrames_ - used);
}

}  // namespace vs
