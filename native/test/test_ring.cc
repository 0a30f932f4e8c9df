// PcmRingBuffer: single-threaded semantics, then a two-thread checksum fuzz (run under ASan/UBSan
// and TSan by scripts/sanitize.mjs).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "check.h"
#include "pcm_ring_buffer.h"

namespace {

using vs::PcmRingBuffer;
using vs::RingStatus;

std::unique_ptr<PcmRingBuffer> MakeRing(uint32_t capacityFrames, uint32_t channels) {
  std::unique_ptr<PcmRingBuffer> ring;
  const RingStatus status = PcmRingBuffer::Create(capacityFrames, channels, &ring);
  VS_CHECK(status == RingStatus::kOk);
  return ring;
}

// Sample value of (frame, channel) in a stream: exact in float32 (below 2^24).
float SampleAt(uint64_t frame, uint32_t channel, uint32_t channels) {
  return static_cast<float>((frame * channels + channel) % (1u << 24));
}

void TestCreateRejectsBadSizes() {
  std::unique_ptr<PcmRingBuffer> ring;
  VS_CHECK(PcmRingBuffer::Create(0, 2, &ring) == RingStatus::kInvalidCapacity);
  VS_CHECK(PcmRingBuffer::Create(PcmRingBuffer::kMaxCapacityFrames + 1, 2, &ring) == RingStatus::kInvalidCapacity);
  VS_CHECK(PcmRingBuffer::Create(16, 0, &ring) == RingStatus::kInvalidChannels);
  VS_CHECK(PcmRingBuffer::Create(16, PcmRingBuffer::kMaxChannels + 1, &ring) == RingStatus::kInvalidChannels);
  VS_CHECK(ring == nullptr);
  VS_CHECK(std::string_view(vs::RingStatusName(RingStatus::kInvalidCapacity)) == "RING_INVALID_CAPACITY");
}

void TestEmptyFullAndPartialWrites() {
  auto ring = MakeRing(8, 2);
  std::vector<float> in(2 * 20), out(2 * 20, -1.0f);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);

  VS_CHECK_EQ(ring->AvailableToRead(), 0u);
  VS_CHECK_EQ(ring->AvailableToWrite(), 8u);
  VS_CHECK_EQ(ring->Read(out.data(), 4), 0u);  // empty: nothing, and out untouched
  VS_CHECK(out[0] == -1.0f);

  VS_CHECK_EQ(ring->Write(in.data(), 5), 5u);
  VS_CHECK_EQ(ring->Write(in.data() + 10, 5), 3u);  // partial: only 3 fit
  VS_CHECK_EQ(ring->AvailableToWrite(), 0u);
  VS_CHECK_EQ(ring->Write(in.data(), 1), 0u);  // full
  VS_CHECK_EQ(ring->AvailableToRead(), 8u);

  VS_CHECK_EQ(ring->Read(out.data(), 20), 8u);
  for (size_t i = 0; i < 10; ++i) VS_CHECK(out[i] == in[i]);
  for (size_t i = 0; i < 6; ++i) VS_CHECK(out[10 + i] == in[10 + i]);
  VS_CHECK_EQ(ring->AvailableToRead(), 0u);
  VS_CHECK_EQ(ring->WritePosition(), 8u);
  VS_CHECK_EQ(ring->ReadPosition(), 8u);
}

void TestWrapAround() {
  auto ring = MakeRing(7, 3);  // odd capacity: every wrap point differs
  uint64_t written = 0, read = 0;
  std::vector<float> chunk(3 * 7), out(3 * 7);
  for (int round = 0; round < 200; ++round) {
    const size_t want = 1 + static_cast<size_t>(round % 7);
    for (size_t f = 0; f < want; ++f)
      for (uint32_t c = 0; c < 3; ++c) chunk[f * 3 + c] = SampleAt(written + f, c, 3);
    const size_t accepted = ring->Write(chunk.data(), want);
    written += accepted;
    const size_t got = ring->Read(out.data(), 1 + static_cast<size_t>((round * 5) % 7));
    for (size_t f = 0; f < got; ++f)
      for (uint32_t c = 0; c < 3; ++c) VS_CHECK(out[f * 3 + c] == SampleAt(read + f, c, 3));
    read += got;
    VS_CHECK_EQ(ring->AvailableToRead(), written - read);
  }
  VS_CHECK(written > 7 * 20);  // wrapped many times
}

void TestDiscard() {
  auto ring = MakeRing(16, 1);
  std::vector<float> in(16, 1.0f), out(16);
  VS_CHECK_EQ(ring->Write(in.data(), 10), 10u);
  VS_CHECK_EQ(ring->DiscardUntil(4), 4u);
  VS_CHECK_EQ(ring->DiscardUntil(2), 0u);     // behind the read position: nothing
  VS_CHECK_EQ(ring->DiscardUntil(100), 6u);   // past the write position: clamps
  VS_CHECK_EQ(ring->Write(in.data(), 3), 3u);
  VS_CHECK_EQ(ring->DiscardAll(), 3u);
  VS_CHECK_EQ(ring->Read(out.data(), 16), 0u);
  VS_CHECK_EQ(ring->AvailableToWrite(), 16u);
}

uint64_t NextRandom(uint64_t& state) {  // xorshift64
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

void TestTwoThreadFuzz() {
  constexpr uint32_t kChannels = 2;
  constexpr uint32_t kCapacity = 1021;  // prime: wrap points land everywhere
  constexpr size_t kMaxChunk = 700;
  const uint64_t totalFrames = static_cast<uint64_t>(1e7 * vs::test::Scale());
  auto ring = MakeRing(kCapacity, kChannels);

  uint64_t producerSum = 0;
  std::thread producer([&] {
    uint64_t random = 0x9E3779B97F4A7C15ull;
    std::vector<float> chunk(kMaxChunk * kChannels);
    uint64_t next = 0;
    while (next < totalFrames) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(1 + NextRandom(random) % kMaxChunk, totalFrames - next));
      for (size_t f = 0; f < want; ++f)
        for (uint32_t c = 0; c < kChannels; ++c) chunk[f * kChannels + c] = SampleAt(next + f, c, kChannels);
      size_t offset = 0;
      while (offset < want) {  // partial writes: resend the rest
        const size_t accepted = ring->Write(chunk.data() + offset * kChannels, want - offset);
        for (size_t f = offset; f < offset + accepted; ++f)
          for (uint32_t c = 0; c < kChannels; ++c) producerSum += static_cast<uint64_t>(chunk[f * kChannels + c]) * (c + 1);
        offset += accepted;
        if (accepted == 0) std::this_thread::yield();
      }
      next += want;
    }
  });

  uint64_t consumerSum = 0, mismatches = 0, read = 0;
  uint64_t random = 0xD1B54A32D192ED03ull;
  std::vector<float> out(kMaxChunk * kChannels);
  while (read < totalFrames) {
    const size_t got = ring->Read(out.data(), 1 + NextRandom(random) % kMaxChunk);
    for (size_t f = 0; f < got; ++f) {
      for (uint32_t c = 0; c < kChannels; ++c) {
        const float sample = out[f * kChannels + c];
        if (sample != SampleAt(read + f, c, kChannels)) ++mismatches;
        consumerSum += static_cast<uint64_t>(sample) * (c + 1);
      }
    }
    read += got;
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  VS_CHECK_EQ(mismatches, 0u);
  VS_CHECK_EQ(consumerSum, producerSum);
  VS_CHECK_EQ(ring->AvailableToRead(), 0u);
  std::fprintf(stderr, "fuzz: %llu frames through a %u-frame ring, checksum %llu\n",
               static_cast<unsigned long long>(read), kCapacity, static_cast<unsigned long long>(consumerSum));
}

}  // namespace

int main() {
  TestCreateRejectsBadSizes();
  TestEmptyFullAndPartialWrites();
  TestWrapAround();
  TestDiscard();
  TestTwoThreadFuzz();
  return VS_TEST_RESULT("test_ring");
}
