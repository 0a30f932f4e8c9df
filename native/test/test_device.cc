// AudioDevice: the render function driven directly (deterministic), then the real device on
// miniaudio's null backend (paced in real time by its own thread).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <atomic>
#include <memory>
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

AudioDeviceConfig NullConfig(uint32_t captureFrames = 0) {
  AudioDeviceConfig config;
  config.backend = AudioBackendChoice::kNull;
  config.sampleRateHz = 48000;
  config.channels = 2;
  config.periodFrames = 240;
  config.bufferFrames = 48000;
  config.captureFrames = captureFrames;
  return config;
}

std::unique_ptr<AudioDevice> OpenNull(const AudioDeviceConfig& config) {
  std::unique_ptr<AudioDevice> device;
  const char* detail = nullptr;
  const AudioStatus status = AudioDevice::Open(config, &device, &detail);
  if (status != AudioStatus::kOk) {
    std::fprintf(stderr, "open failed: %s (%s)\n", vs::AudioStatusName(status), detail ? detail : "");
  }
  VS_CHECK(status == AudioStatus::kOk);
  return device;
}

std::vector<float> Ramp(size_t frames, uint32_t channels, float start) {
  std::vector<float> pcm(frames * channels);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = start + static_cast<float>(i) * 1e-4f;
  return pcm;
}

size_t WriteAll(AudioDevice& device, const std::vector<float>& pcm, uint32_t channels) {
  size_t accepted = 0;
  VS_CHECK(device.Write(pcm.data(), pcm.size() / channels, &accepted) == AudioStatus::kOk);
  return accepted;
}

void TestOpenValidates() {
  std::unique_ptr<AudioDevice> device;
  const char* detail = nullptr;
  AudioDeviceConfig config = NullConfig();
  config.sampleRateHz = 100;
  VS_CHECK(AudioDevice::Open(config, &device, &detail) == AudioStatus::kInvalidSampleRate);
  VS_CHECK(detail != nullptr && std::string_view(detail).find("sampleRateHz") != std::string_view::npos);
  config = NullConfig();
  config.channels = 0;
  VS_CHECK(AudioDevice::Open(config, &device, &detail) == AudioStatus::kInvalidChannels);
  config = NullConfig();
  config.periodFrames = 4;
  VS_CHECK(AudioDevice::Open(config, &device, &detail) == AudioStatus::kInvalidPeriod);
  config = NullConfig();
  config.bufferFrames = 100;  // below one period
  VS_CHECK(AudioDevice::Open(config, &device, &detail) == AudioStatus::kInvalidBufferSize);
  VS_CHECK(device == nullptr);
  VS_CHECK(std::string_view(vs::AudioStatusName(AudioStatus::kDeviceInitFailed)) == "AUDIO_DEVICE_INIT_FAILED");
}

void TestListsNullBackend() {
  const char* names[32] = {};
  const size_t count = AudioDevice::EnabledBackendNames(names, 32);
  bool hasNull = false;
  for (size_t i = 0; i < count && i < 32; ++i) hasNull = hasNull || std::string_view(names[i]) == "Null";
  VS_CHECK(count > 0);
  VS_CHECK(hasNull);
}

void TestRenderCopiesAndCountsUnderruns() {
  auto device = OpenNull(NullConfig());
  if (!device) return;
  const auto pcm = Ramp(300, 2, 0.1f);
  VS_CHECK_EQ(WriteAll(*device, pcm, 2), 300u);
  std::vector<float> out(240 * 2, -1.0f);
  VS_CHECK(device->RenderWhileStopped(out.data(), 240) == AudioStatus::kOk);
  for (size_t i = 0; i < out.size(); ++i) VS_CHECK(out[i] == pcm[i]);
  VS_CHECK_EQ(device->Stats().underruns, 0u);
  VS_CHECK(device->RenderWhileStopped(out.data(), 240) == AudioStatus::kOk);  // 60 frames left
  for (size_t i = 0; i < 120; ++i) VS_CHECK(out[i] == pcm[480 + i]);
  for (size_t i = 120; i < out.size(); ++i) VS_CHECK(out[i] == 0.0f);
  const auto stats = device->Stats();
  VS_CHECK_EQ(stats.framesPlayed, 300u);
  VS_CHECK_EQ(stats.underruns, 1u);
  VS_CHECK_EQ(stats.starvedFrames, 180u);
  VS_CHECK_EQ(stats.callbacks, 2u);
  VS_CHECK(stats.nanosSinceLastCallback >= 0);
}

void TestInterruptFadesThenDrops() {
  auto device = OpenNull(NullConfig());
  if (!device) return;
  const uint32_t fade = device->FadeFrames();
  VS_CHECK_EQ(fade, 240u);  // 5 ms at 48 kHz
  std::vector<float> constant(4800 * 2, 0.5f);
  VS_CHECK_EQ(WriteAll(*device, constant, 2), 4800u);
  std::vector<float> out(100 * 2);
  VS_CHECK(device->RenderWhileStopped(out.data(), 100) == AudioStatus::kOk);  // plays normally
  VS_CHECK_EQ(device->Interrupt(), 1u);
  VS_CHECK(device->Stats().interrupted);

  std::vector<float> faded;
  for (int period = 0; period < 4; ++period) {
    VS_CHECK(device->RenderWhileStopped(out.data(), 100) == AudioStatus::kOk);
    faded.insert(faded.end(), out.begin(), out.end());
  }
  // Frame k of the fade is 0.5 * (fade - 1 - k) / fade: strictly decreasing, zero at frame fade-1.
  for (uint32_t k = 0; k < fade; ++k) {
    const float expected = 0.5f * static_cast<float>(fade - 1 - k) / static_cast<float>(fade);
    VS_CHECK(std::fabs(faded[k * 2] - expected) < 1e-6f);
    VS_CHECK(faded[k * 2] == faded[k * 2 + 1]);
    if (k > 0) VS_CHECK(faded[k * 2] < faded[(k - 1) * 2]);
  }
  for (size_t i = fade * 2; i < faded.size(); ++i) VS_CHECK(faded[i] == 0.0f);
  auto stats = device->Stats();
  VS_CHECK_EQ(stats.bufferedFrames, 0u);
  VS_CHECK_EQ(stats.droppedFrames, 4800u - 100u - fade);
  VS_CHECK_EQ(stats.completedInterruptGeneration, 1u);
  VS_CHECK_EQ(stats.underruns, 0u);  // intentional silence is not an underrun

  // Written while interrupted: dropped. After Resume(): played in full.
  VS_CHECK_EQ(WriteAll(*device, constant, 2), 4800u);
  VS_CHECK(device->RenderWhileStopped(out.data(), 100) == AudioStatus::kOk);
  VS_CHECK(out[0] == 0.0f);
  VS_CHECK(device->Resume() == AudioStatus::kOk);
  VS_CHECK(!device->Stats().interrupted);
  const auto next = Ramp(150, 2, 0.25f);
  VS_CHECK_EQ(WriteAll(*device, next, 2), 150u);
  VS_CHECK(device->RenderWhileStopped(out.data(), 100) == AudioStatus::kOk);
  for (size_t i = 0; i < out.size(); ++i) VS_CHECK(out[i] == next[i]);
}

void TestResumeBeforeCallbackKeepsNextUtterance() {
  auto device = OpenNull(NullConfig());
  if (!device) return;
  std::vector<float> old(20 * 2, 0.9f);  // less than one fade of the old utterance
  VS_CHECK_EQ(WriteAll(*device, old, 2), 20u);
  device->Interrupt();
  VS_CHECK(device->Resume() == AudioStatus::kOk);
  const auto next = Ramp(500, 2, 0.3f);
  VS_CHECK_EQ(WriteAll(*device, next, 2), 500u);
  std::vector<float> out(480 * 2);
  VS_CHECK(device->RenderWhileStopped(out.data(), 480) == AudioStatus::kOk);
  // The 20 old frames fade, then the next utterance starts at its first sample.
  for (size_t k = 1; k < 20; ++k) VS_CHECK(out[k * 2] < out[(k - 1) * 2]);
  for (size_t i = 0; i < 460 * 2; ++i) VS_CHECK(out[20 * 2 + i] == next[i]);
  VS_CHECK_EQ(device->Stats().droppedFrames, 0u);
}

void TestNullDeviceConsumesAndCaptures() {
  auto device = OpenNull(NullConfig(48000));
  if (!device) return;
  const auto pcm = Ramp(9600, 2, -0.5f);  // 200 ms
  VS_CHECK_EQ(WriteAll(*device, pcm, 2), 9600u);  // pre-fill before start
  VS_CHECK(device->Start() == AudioStatus::kOk);
  VS_CHECK(device->Start() == AudioStatus::kOk);  // idempotent
  VS_CHECK(device->RenderWhileStopped(nullptr, 0) == AudioStatus::kRunning);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (device->Stats().framesPlayed < 9600 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // starve for a few periods
  auto stats = device->Stats();
  VS_CHECK(stats.started);
  VS_CHECK_EQ(stats.framesPlayed, 9600u);
  VS_CHECK(stats.underruns >= 1);
  VS_CHECK(stats.callbacks >= 40);
  VS_CHECK(device->Stop() == AudioStatus::kOk);
  VS_CHECK(!device->Stats().started);

  std::vector<float> captured(9600 * 2);
  size_t copied = 0;
  VS_CHECK(device->ReadCapture(captured.data(), 9600, &copied) == AudioStatus::kOk);
  VS_CHECK_EQ(copied, 9600u);
  size_t mismatches = 0;
  for (size_t i = 0; i < captured.size(); ++i) mismatches += captured[i] != pcm[i];
  VS_CHECK_EQ(mismatches, 0u);

  device->Close();
  device->Close();  // idempotent
  size_t accepted = 0;
  VS_CHECK(device->Write(pcm.data(), 1, &accepted) == AudioStatus::kClosed);
  VS_CHECK(device->Start() == AudioStatus::kClosed);
}

void TestCaptureDisabled() {
  auto device = OpenNull(NullConfig());
  if (!device) return;
  float sample[2];
  size_t copied = 0;
  VS_CHECK(device->ReadCapture(sample, 1, &copied) == AudioStatus::kCaptureDisabled);
}

void TestInterruptWhileStoppedSkipsFade() {
  auto device = OpenNull(NullConfig(4800));
  if (!device) return;
  std::vector<float> old(2400 * 2, 0.7f);
  VS_CHECK_EQ(WriteAll(*device, old, 2), 2400u);
  device->Interrupt();
  VS_CHECK(device->Start() == AudioStatus::kOk);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (device->Stats().completedInterruptGeneration < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  VS_CHECK(device->Stop() == AudioStatus::kOk);
  const auto stats = device->Stats();
  VS_CHECK_EQ(stats.framesPlayed, 0u);
  VS_CHECK_EQ(stats.droppedFrames, 2400u);
  std::vector<float> captured(4800 * 2);
  size_t copied = 0;
  VS_CHECK(device->ReadCapture(captured.data(), 4800, &copied) == AudioStatus::kOk);
  VS_CHECK(copied > 0);
  for (size_t i = 0; i < copied * 2; ++i) VS_CHECK(captured[i] == 0.0f);
}

// The producer writes while the callback reads and a third thread polls Stats(): under TSan this
// checks the real cross-thread handoff, and the capture shows every frame arrived once, in order.
void TestStreamingWhileRunning() {
  constexpr size_t kFrames = 24000;  // 500 ms through a 100 ms ring
  AudioDeviceConfig config = NullConfig(96000);
  config.bufferFrames = 4800;
  auto device = OpenNull(config);
  if (!device) return;
  std::vector<float> pcm(kFrames * 2);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.25f + static_cast<float>(i % 1000) * 1e-4f;  // never 0

  std::atomic<bool> done{false};
  std::thread poller([&] {
    uint64_t last = 0;
    while (!done.load()) {
      const uint64_t played = device->Stats().framesPlayed;
      VS_CHECK(played >= last);
      last = played;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  VS_CHECK(device->Start() == AudioStatus::kOk);
  size_t written = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (written < kFrames && std::chrono::steady_clock::now() < deadline) {
    size_t accepted = 0;
    const size_t chunk = std::min<size_t>(kFrames - written, 700);
    VS_CHECK(device->Write(pcm.data() + written * 2, chunk, &accepted) == AudioStatus::kOk);
    written += accepted;
    if (accepted < chunk) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  while (device->Stats().bufferedFrames > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  VS_CHECK(device->Stop() == AudioStatus::kOk);
  done.store(true);
  poller.join();
  VS_CHECK_EQ(written, kFrames);
  VS_CHECK_EQ(device->Stats().framesPlayed, kFrames);

  std::vector<float> captured(96000 * 2);
  size_t copied = 0;
  VS_CHECK(device->ReadCapture(captured.data(), 96000, &copied) == AudioStatus::kOk);
  VS_CHECK_EQ(device->Stats().captureOverflowFrames, 0u);
  size_t next = 0, mismatches = 0;
  for (size_t i = 0; i < copied * 2; ++i) {
    if (captured[i] == 0.0f) continue;  // underrun silence (a loaded machine may starve the ring)
    if (next >= pcm.size() || captured[i] != pcm[next]) ++mismatches;
    ++next;
  }
  VS_CHECK_EQ(mismatches, 0u);
  VS_CHECK_EQ(next, pcm.size());
}

// Destroying a running device stops it and joins the device thread (what the env cleanup hook does).
void TestDestroyWhileRunning() {
  for (int round = 0; round < 3; ++round) {
    auto device = OpenNull(NullConfig());
    if (!device) return;
    VS_CHECK(device->Start() == AudioStatus::kOk);
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    device.reset();
  }
}

}  // namespace

int main() {
  TestOpenValidates();
  TestListsNullBackend();
  TestRenderCopiesAndCountsUnderruns();
  TestInterruptFadesThenDrops();
  TestResumeBeforeCallbackKeepsNextUtterance();
  TestNullDeviceConsumesAndCaptures();
  TestCaptureDisabled();
  TestInterruptWhileStoppedSkipsFade();
  TestStreamingWhileRunning();
  TestDestroyWhileRunning();
  return VS_TEST_RESULT("test_device");
}
