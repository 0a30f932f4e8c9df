// The device mixer: voices summed into the output (render function driven directly, deterministic),
// per-voice interrupt, gain ramps, the event ring, and voice retire/reuse against a running null
// device (the race the acknowledgement protocol exists for; run it under ASan/TSan too).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "audio_device.h"
#include "check.h"

namespace {

using vs::AudioBackendChoice;
using vs::AudioDevice;
using vs::AudioDeviceConfig;
using vs::AudioStatus;
using vs::VoiceEvent;
using vs::VoiceEventKind;
using vs::VoicePhase;

constexpr uint32_t kChannels = 2;
constexpr uint32_t kPeriod = 240;

std::unique_ptr<AudioDevice> OpenNull(uint32_t periodFrames = kPeriod, uint32_t captureFrames = 0) {
  AudioDeviceConfig config;
  config.backend = AudioBackendChoice::kNull;
  config.sampleRateHz = 48000;
  config.channels = kChannels;
  config.periodFrames = periodFrames;
  config.bufferFrames = 48000;
  config.captureFrames = captureFrames;
  std::unique_ptr<AudioDevice> device;
  VS_CHECK(AudioDevice::Open(config, &device, nullptr) == AudioStatus::kOk);
  return device;
}

// A signal no two voices share: voice v, sample i.
std::vector<float> Signal(size_t frames, int voice) {
  std::vector<float> pcm(frames * kChannels);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.01f * static_cast<float>(voice + 1) + static_cast<float>(i % 97) * 1e-4f;
  return pcm;
}

uint32_t Open(AudioDevice& device, float gain = 1.0f) {
  uint32_t id = 0;
  VS_CHECK(device.OpenVoice(48000, gain, &id) == AudioStatus::kOk);
  return id;
}

void Write(AudioDevice& device, uint32_t id, const std::vector<float>& pcm) {
  size_t accepted = 0;
  VS_CHECK(device.WriteVoice(id, pcm.data(), pcm.size() / kChannels, &accepted) == AudioStatus::kOk);
  VS_CHECK_EQ(accepted, pcm.size() / kChannels);
}

std::vector<float> Render(AudioDevice& device, uint32_t frames) {
  std::vector<float> out(static_cast<size_t>(frames) * kChannels, -7.0f);
  VS_CHECK(device.RenderWhileStopped(out.data(), frames) == AudioStatus::kOk);
  return out;
}

std::vector<VoiceEvent> Poll(AudioDevice& device) {
  std::vector<VoiceEvent> events(8192);
  events.resize(device.PollEvents(events.data(), events.size()));
  return events;
}

size_t Count(const std::vector<VoiceEvent>& events, uint32_t id, VoiceEventKind kind) {
  size_t count = 0;
  for (const VoiceEvent& event : events) count += event.voiceId == id && event.kind == kind ? 1 : 0;
  return count;
}

void TestMixEqualsSumOfInputs() {
  auto device = OpenNull();
  const auto a = Signal(1000, 0), b = Signal(700, 1), legacy = Signal(500, 2);
  const uint32_t first = Open(*device);
  const uint32_t second = Open(*device, 0.5f);
  VS_CHECK(first != second && first != 0);
  Write(*device, first, a);
  Write(*device, second, b);
  size_t accepted = 0;
  VS_CHECK(device->Write(legacy.data(), 500, &accepted) == AudioStatus::kOk);
  std::vector<float> mixed;
  for (int period = 0; period < 5; ++period) {
    const auto out = Render(*device, kPeriod);
    mixed.insert(mixed.end(), out.begin(), out.end());
  }
  size_t mismatches = 0;
  for (size_t i = 0; i < mixed.size(); ++i) {
    const float expected = (i < a.size() ? a[i] : 0.0f) + (i < b.size() ? b[i] * 0.5f : 0.0f) + (i < legacy.size() ? legacy[i] : 0.0f);
    if (std::fabs(mixed[i] - expected) > 1e-6f) ++mismatches;
  }
  VS_CHECK_EQ(mismatches, 0u);
  vs::VoiceStats stats;
  VS_CHECK(device->VoiceStatsOf(first, &stats) == AudioStatus::kOk);
  VS_CHECK_EQ(stats.framesPlayed, 1000u);
  VS_CHECK_EQ(stats.underruns, 1u);  // started, not ended, ran dry in period 5
  VS_CHECK(device->VoiceStatsOf(second, &stats) == AudioStatus::kOk);
  VS_CHECK_EQ(stats.framesPlayed, 700u);
  VS_CHECK_EQ(device->Stats().framesPlayed, 1000u + 700u + 500u);
  // Negative: an unknown voice is refused, not mixed.
  VS_CHECK(device->WriteVoice(9999, a.data(), 1, &accepted) == AudioStatus::kNoSuchVoice);
}

void TestInterruptLeavesOthersSampleExact() {
  auto device = OpenNull();
  const uint32_t fade = device->FadeFrames();
  const auto kept = Signal(2000, 3), cut = Signal(2000, 4);
  const uint32_t keep = Open(*device), stop = Open(*device);
  Write(*device, keep, kept);
  Write(*device, stop, cut);
  std::vector<float> mixed = Render(*device, kPeriod);
  VS_CHECK(device->InterruptVoice(stop) == AudioStatus::kOk);
  size_t accepted = 0;
  VS_CHECK(device->WriteVoice(stop, cut.data(), 1, &accepted) == AudioStatus::kVoiceInterrupted);
  for (int period = 0; period < 4; ++period) {
    const auto out = Render(*device, kPeriod);
    mixed.insert(mixed.end(), out.begin(), out.end());
  }
  size_t mismatches = 0;
  for (size_t frame = 0; frame < mixed.size() / kChannels; ++frame) {
    for (uint32_t channel = 0; channel < kChannels; ++channel) {
      const size_t i = frame * kChannels + channel;
      float expected = kept[i];
      if (frame < kPeriod) {
        expected += cut[i];
      } else if (frame < kPeriod + fade) {
        const uint32_t k = static_cast<uint32_t>(frame - kPeriod);
        expected += cut[i] * static_cast<float>(fade - 1 - k) / static_cast<float>(fade);
      }
      if (std::fabs(mixed[i] - expected) > 1e-6f) ++mismatches;
    }
  }
  VS_CHECK_EQ(mismatches, 0u);
  const auto events = Poll(*device);
  VS_CHECK_EQ(Count(events, stop, VoiceEventKind::kInterrupted), 1u);
  VS_CHECK_EQ(Count(events, keep, VoiceEventKind::kInterrupted), 0u);
  for (const VoiceEvent& event : events) {
    if (event.kind == VoiceEventKind::kInterrupted) VS_CHECK_EQ(event.deviceFrame, uint64_t{kPeriod} + fade);
  }
  vs::VoiceStats stats;
  VS_CHECK(device->VoiceStatsOf(stop, &stats) == AudioStatus::kOk);
  VS_CHECK(stats.phase == VoicePhase::kInterrupted);
  VS_CHECK_EQ(stats.framesPlayed, uint64_t{kPeriod} + fade);
  VS_CHECK_EQ(stats.bufferedFrames, 0u);
  VS_CHECK_EQ(stats.droppedFrames, 2000u - kPeriod - fade);
  // A voice interrupt counts in the device's interrupt generation, and its completion once faded.
  VS_CHECK_EQ(device->Stats().interruptGeneration, 1u);
  VS_CHECK_EQ(device->Stats().completedInterruptGeneration, 1u);
  VS_CHECK(!device->Stats().interrupted);  // the default ring is not interrupted
}

void TestGainRampIsLinear() {
  auto device = OpenNull();
  const uint32_t id = Open(*device);
  Write(*device, id, std::vector<float>(1000 * kChannels, 1.0f));
  VS_CHECK(device->SetVoiceGain(id, 0.0f, 100) == AudioStatus::kOk);
  const auto out = Render(*device, kPeriod);
  for (uint32_t frame = 0; frame < kPeriod; ++frame) {
    const float expected = frame < 100 ? 1.0f - static_cast<float>(frame) / 100.0f : 0.0f;
    VS_CHECK(std::fabs(out[frame * kChannels] - expected) < 1e-5f);
  }
  VS_CHECK(device->SetVoiceGain(id, -1.0f, 0) == AudioStatus::kInvalidGain);
  VS_CHECK(device->SetVoiceGain(id, NAN, 0) == AudioStatus::kInvalidGain);
}

void TestEventsAndDrain() {
  auto device = OpenNull();
  const uint32_t id = Open(*device);
  Render(*device, kPeriod);  // nothing written yet: no event, no underrun (not started)
  VS_CHECK(Poll(*device).empty());
  Write(*device, id, Signal(300, 5));
  Render(*device, kPeriod);
  Render(*device, kPeriod);  // 60 frames, then dry: an underrun (not ended)
  VS_CHECK(device->EndVoice(id) == AudioStatus::kOk);
  size_t accepted = 0;
  const auto more = Signal(10, 5);
  VS_CHECK(device->WriteVoice(id, more.data(), 10, &accepted) == AudioStatus::kVoiceEnded);
  Render(*device, kPeriod);  // ended and empty: drained
  const auto events = Poll(*device);
  VS_CHECK_EQ(Count(events, id, VoiceEventKind::kStarted), 1u);
  VS_CHECK_EQ(Count(events, id, VoiceEventKind::kUnderrun), 1u);
  VS_CHECK_EQ(Count(events, id, VoiceEventKind::kPosition), 2u);
  VS_CHECK_EQ(Count(events, id, VoiceEventKind::kDrained), 1u);
  VS_CHECK(!events.empty() && events.front().kind == VoiceEventKind::kStarted);
  VS_CHECK_EQ(events.front().deviceFrame, uint64_t{kPeriod});
  VS_CHECK_EQ(events.back().voiceFrame, 300u);
  vs::VoiceStats stats;
  VS_CHECK(device->VoiceStatsOf(id, &stats) == AudioStatus::kOk);
  VS_CHECK(stats.phase == VoicePhase::kDrained);
}

void TestEventOverflowIsCounted() {
  auto device = OpenNull(16);
  std::vector<uint32_t> ids;
  for (int i = 0; i < 64; ++i) {
    ids.push_back(Open(*device));
    Write(*device, ids.back(), Signal(16 * 200, i));
  }
  uint32_t extra = 0;
  VS_CHECK(device->OpenVoice(100, 1.0f, &extra) == AudioStatus::kNoFreeVoice);
  // 64 voices × (1 started + 100 positions) > 4096 entries: the rest is dropped and counted.
  for (int period = 0; period < 100; ++period) Render(*device, 16);
  const uint64_t dropped = device->Stats().droppedEvents;
  VS_CHECK_EQ(dropped, 64u * 101u - vs::VoiceEventRing::kCapacity);
  VS_CHECK_EQ(Poll(*device).size(), vs::VoiceEventRing::kCapacity);
  // Mixing went on regardless of the full event ring.
  vs::VoiceStats stats;
  VS_CHECK(device->VoiceStatsOf(ids.back(), &stats) == AudioStatus::kOk);
  VS_CHECK_EQ(stats.framesPlayed, 1600u);
}

// Open, write, interrupt or end, and close voices as fast as possible while the null device's
// thread mixes them: every ring is freed only after the callback let go (ASan/TSan check it).
void TestRetireAndReuseWhileRunning() {
  auto device = OpenNull(64, 0);
  VS_CHECK(device->Start() == AudioStatus::kOk);
  std::set<uint32_t> seen;
  const auto pcm = Signal(256, 6);
  const int rounds = static_cast<int>(3000 * vs::test::Scale());
  std::vector<uint32_t> open;
  for (int round = 0; round < rounds; ++round) {
    uint32_t id = 0;
    const AudioStatus status = device->OpenVoice(4096, 0.5f, &id);
    if (status == AudioStatus::kNoFreeVoice) {
      std::vector<VoiceEvent> events(256);
      device->PollEvents(events.data(), events.size());  // reclaims acknowledged slots
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    VS_CHECK(status == AudioStatus::kOk);
    VS_CHECK(seen.insert(id).second);  // ids are never reused
    size_t accepted = 0;
    VS_CHECK(device->WriteVoice(id, pcm.data(), 256, &accepted) == AudioStatus::kOk);
    if (round % 3 == 0) VS_CHECK(device->InterruptVoice(id) == AudioStatus::kOk);
    if (round % 3 == 1) VS_CHECK(device->EndVoice(id) == AudioStatus::kOk);
    open.push_back(id);
    if (open.size() > 8) {
      VS_CHECK(device->CloseVoice(open.front()) == AudioStatus::kOk);
      VS_CHECK(device->CloseVoice(open.front()) == AudioStatus::kNoSuchVoice);
      open.erase(open.begin());
    }
    std::vector<VoiceEvent> events(256);
    device->PollEvents(events.data(), events.size());
  }
  for (uint32_t id : open) VS_CHECK(device->CloseVoice(id) == AudioStatus::kOk);
  VS_CHECK(device->Stop() == AudioStatus::kOk);
  VS_CHECK_EQ(device->Stats().liveVoices, 0u);  // a stopped device frees retiring voices
  // Every interrupt asked for (explicit, or a retirement that cut sound) is complete.
  VS_CHECK(device->Stats().interruptGeneration > 0u);
  VS_CHECK_EQ(device->Stats().completedInterruptGeneration, device->Stats().interruptGeneration);
  VS_CHECK(seen.size() > 100u);
}

void TestListsNullDevice() {
  std::vector<vs::OutputDeviceInfo> devices;
  VS_CHECK(AudioDevice::ListOutputDevices(AudioBackendChoice::kNull, &devices, nullptr) == AudioStatus::kOk);
  VS_CHECK(!devices.empty());
  if (devices.empty()) return;
  VS_CHECK(devices[0].backend == "Null");
  VS_CHECK(!devices[0].id.empty() && !devices[0].name.empty());
  // Opened by id and by name; an unknown one is refused.
  for (const std::string& selector : {devices[0].id, devices[0].name}) {
    AudioDeviceConfig config;
    config.backend = AudioBackendChoice::kNull;
    config.device = selector;
    std::unique_ptr<AudioDevice> device;
    VS_CHECK(AudioDevice::Open(config, &device, nullptr) == AudioStatus::kOk);
    if (device) VS_CHECK(device->DeviceName() == devices[0].name);
  }
  AudioDeviceConfig config;
  config.backend = AudioBackendChoice::kNull;
  config.device = "no such device";
  std::unique_ptr<AudioDevice> device;
  VS_CHECK(AudioDevice::Open(config, &device, nullptr) == AudioStatus::kDeviceNotFound);
}

}  // namespace

int main() {
  TestMixEqualsSumOfInputs();
  TestInterruptLeavesOthersSampleExact();
  TestGainRampIsLinear();
  TestEventsAndDrain();
  TestEventOverflowIsCounted();
  TestRetireAndReuseWhileRunning();
  TestListsNullDevice();
  return VS_TEST_RESULT("test_mixer");
}
