// The mixer voice's watch of a registrar stream (stream_watch.h): the render function, driven
// directly, fades a watched voice in the first period after a decision that ends its stream (or a
// halt), sample-exact like a requested interrupt; a change that keeps the stream playing (transfer)
// does not; the voice keeps the core alive until its slot is freed on the control thread; and a
// running null device with decisions from another thread (the race; run it under ASan/TSan too).
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "audio_device.h"
#include "check.h"
#include "registrar_core.h"

namespace {

using vs::AudioBackendChoice;
using vs::AudioDevice;
using vs::AudioDeviceConfig;
using vs::AudioStatus;
using vs::StreamWatchTarget;
using vs::VoiceEvent;
using vs::VoiceEventKind;
using vs::VoicePhase;
using namespace vs::registrar;

constexpr uint32_t kPeriod = 240;
constexpr float kLevel = 0.5f;

std::unique_ptr<AudioDevice> OpenNull(uint32_t periodFrames = kPeriod) {
  AudioDeviceConfig config;
  config.backend = AudioBackendChoice::kNull;
  config.sampleRateHz = 48000;
  config.channels = 1;
  config.periodFrames = periodFrames;
  config.bufferFrames = 48000;
  std::unique_ptr<AudioDevice> device;
  VS_CHECK(AudioDevice::Open(config, &device, nullptr) == AudioStatus::kOk);
  return device;
}

/** A registrar core with one agent, and a way to drive its streams. */
struct Core {
  std::shared_ptr<RegistrarCore> core = std::make_shared<RegistrarCore>(1024);
  int32_t agent = core->RegisterActor("agent:a", static_cast<int32_t>(ActorKind::kAgent));
  int32_t other = core->RegisterActor("agent:b", static_cast<int32_t>(ActorKind::kAgent));
  int32_t session = core->InternScope(0, "default");

  Decision Do(Action action, int32_t stream, int32_t actor = -1, int32_t newOwner = kNoId) const {
    Request request;
    request.actor = actor < 0 ? agent : actor;
    request.actorKind = static_cast<int32_t>(ActorKind::kAgent);
    request.action = static_cast<int32_t>(action);
    request.stream = stream;
    request.session = session;
    request.newOwner = newOwner;
    return core->Decide(request);
  }
  /** A new stream of `agent`, playing. */
  int32_t Playing(const std::string& key) const {
    const int32_t id = core->InternStream(key);
    for (Action action : {Action::kClaim, Action::kStart, Action::kSynthesize, Action::kPlay}) VS_CHECK(Do(action, id).allowed);
    return id;
  }
};

/** The seq of `stream`'s last decision (a play's, right after Playing()). */
uint64_t LastSeq(const Core& core, int32_t stream) {
  StreamView view;
  VS_CHECK(core.core->Stream(stream, &view));
  return view.lastSeq;
}

/** A voice holding `frames` of a constant level, watching `stream` of `core` as of its last decision. */
uint32_t WatchedVoice(AudioDevice& device, const Core& core, int32_t stream, uint32_t frames = 4800) {
  uint32_t id = 0;
  VS_CHECK(device.OpenVoice(48000, 1.0f, &id) == AudioStatus::kOk);
  std::vector<float> pcm(frames, kLevel);
  size_t accepted = 0;
  VS_CHECK(device.WriteVoice(id, pcm.data(), frames, &accepted) == AudioStatus::kOk);
  StreamWatchTarget target;
  VS_CHECK(core.core->WatchTarget(stream, LastSeq(core, stream), &target) == RegistrarCore::WatchStatus::kOk);
  VS_CHECK(device.WatchVoice(id, target, core.core) == AudioStatus::kOk);
  return id;
}

std::vector<float> Render(AudioDevice& device, uint32_t frames = kPeriod) {
  std::vector<float> out(frames, -7.0f);
  VS_CHECK(device.RenderWhileStopped(out.data(), frames) == AudioStatus::kOk);
  return out;
}

size_t Count(AudioDevice& device, uint32_t id, VoiceEventKind kind, uint64_t* deviceFrame = nullptr) {
  std::vector<VoiceEvent> events(1024);
  events.resize(device.PollEvents(events.data(), events.size()));
  size_t count = 0;
  for (const VoiceEvent& event : events) {
    if (event.voiceId != id || event.kind != kind) continue;
    ++count;
    if (deviceFrame != nullptr) *deviceFrame = event.deviceFrame;
  }
  return count;
}

/** Whether `out` is the interrupt fade of a constant level from its first frame, then silence. */
bool FadesFromFirstFrame(const std::vector<float>& out, uint32_t fade) {
  for (size_t frame = 0; frame < out.size(); ++frame) {
    const float expected = frame < fade ? kLevel * static_cast<float>(fade - 1 - frame) / static_cast<float>(fade) : 0.0f;
    if (std::fabs(out[frame] - expected) > 1e-6f) return false;
  }
  return true;
}

bool AllAt(const std::vector<float>& out, float level) {
  for (float sample : out) {
    if (sample != level) return false;
  }
  return true;
}

void TestWordRule() {
  // Only the state field, existence and the version floor count (the layout is static_asserted
  // against MakeWord in registrar_core.cc).
  const auto word = [](uint64_t state, uint64_t owner, uint64_t version, bool committed = false) {
    return 1u | (state << 1) | (committed ? 1u << 4 : 0u) | ((owner + 1) << 5) | (version << 29);
  };
  VS_CHECK(vs::WordPlays(word(3, 4, 9), 9));
  VS_CHECK(vs::WordPlays(word(3, 5, 10, true), 9));  // new owner, committed, newer version: still plays
  for (uint64_t state : {0u, 1u, 2u, 4u, 5u, 6u}) VS_CHECK(!vs::WordPlays(word(state, 4, 9), 9));
  VS_CHECK(!vs::WordPlays(word(3, 4, 8), 9));       // a younger stream in a reused slot
  VS_CHECK(!vs::WordPlays(word(3, 4, 9) & ~1ull, 9));  // compacted: no stream
  VS_CHECK(!vs::WordPlays(0, 0));
}

void TestEndingDecisionFadesNextPeriod() {
  for (Action ending : {Action::kInterrupt, Action::kStop, Action::kFail}) {
    Core core;
    auto device = OpenNull();
    const uint32_t fade = device->FadeFrames();
    const int32_t stream = core.Playing("s");
    const uint32_t id = WatchedVoice(*device, core, stream);
    VS_CHECK(AllAt(Render(*device), kLevel));
    // A change that keeps it playing: no fade.
    VS_CHECK(core.Do(Action::kTransfer, stream, core.agent, core.other).allowed);
    VS_CHECK(AllAt(Render(*device), kLevel));
    VS_CHECK(core.Do(ending, stream, core.other).allowed);
    // From the decision on, the voice takes nothing more (its writer waits for the sink to close).
    size_t accepted = 7;
    const std::vector<float> more(480, kLevel);
    VS_CHECK(device->WriteVoice(id, more.data(), more.size(), &accepted) == AudioStatus::kOk);
    VS_CHECK_EQ(accepted, 0u);
    VS_CHECK(FadesFromFirstFrame(Render(*device), fade));
    VS_CHECK(AllAt(Render(*device), 0.0f));
    uint64_t at = 0;
    VS_CHECK_EQ(Count(*device, id, VoiceEventKind::kInterrupted, &at), 1u);
    VS_CHECK_EQ(at, uint64_t{2 * kPeriod} + fade);  // faded from the start of the third period
    vs::VoiceStats stats;
    VS_CHECK(device->VoiceStatsOf(id, &stats) == AudioStatus::kOk);
    VS_CHECK(stats.phase == VoicePhase::kInterrupted);
    VS_CHECK_EQ(stats.framesPlayed, uint64_t{2 * kPeriod} + fade);
    // Not a requested interrupt: the counts stay paired, and the sink's request completes at once.
    VS_CHECK_EQ(device->Stats().completedInterruptGeneration, 0u);
    VS_CHECK(device->InterruptVoice(id) == AudioStatus::kOk);
    Render(*device);
    VS_CHECK_EQ(device->Stats().interruptGeneration, 1u);
    VS_CHECK_EQ(device->Stats().completedInterruptGeneration, 1u);
  }
}

void TestUnwatchedVoicePlaysOn() {
  // Negative: the same decision with no watch armed changes nothing at the device.
  Core core;
  auto device = OpenNull();
  const int32_t stream = core.Playing("s");
  uint32_t id = 0;
  VS_CHECK(device->OpenVoice(48000, 1.0f, &id) == AudioStatus::kOk);
  std::vector<float> pcm(4800, kLevel);
  size_t accepted = 0;
  VS_CHECK(device->WriteVoice(id, pcm.data(), pcm.size(), &accepted) == AudioStatus::kOk);
  VS_CHECK(core.Do(Action::kInterrupt, stream).allowed);
  VS_CHECK(AllAt(Render(*device), kLevel));
}

void TestHaltFadesEveryWatchedVoice() {
  Core core;
  auto device = OpenNull();
  const uint32_t fade = device->FadeFrames();
  const uint32_t first = WatchedVoice(*device, core, core.Playing("one"));
  const uint32_t second = WatchedVoice(*device, core, core.Playing("two"));
  VS_CHECK(AllAt(Render(*device), 2 * kLevel));
  VS_CHECK(core.core->Halt(static_cast<int32_t>(HaltCause::kAttestationIo)) > 0);
  const auto out = Render(*device);
  bool faded = true;
  for (size_t frame = 0; frame < out.size(); ++frame) {
    const float expected = frame < fade ? 2 * kLevel * static_cast<float>(fade - 1 - frame) / static_cast<float>(fade) : 0.0f;
    faded = faded && std::fabs(out[frame] - expected) <= 1e-6f;
  }
  VS_CHECK(faded);
  std::vector<VoiceEvent> events(64);
  events.resize(device->PollEvents(events.data(), events.size()));
  size_t interrupted = 0;
  for (const VoiceEvent& event : events) interrupted += event.kind == VoiceEventKind::kInterrupted && (event.voiceId == first || event.voiceId == second);
  VS_CHECK_EQ(interrupted, 2u);
}

void TestArmingRules() {
  Core core;
  auto device = OpenNull();
  const int32_t stream = core.Playing("s");
  const uint32_t id = WatchedVoice(*device, core, stream);
  StreamWatchTarget target;
  VS_CHECK(core.core->WatchTarget(stream, LastSeq(core, stream), &target) == RegistrarCore::WatchStatus::kOk);
  VS_CHECK(device->WatchVoice(id, target, core.core) == AudioStatus::kVoiceWatched);  // once per voice
  VS_CHECK(device->WatchVoice(9999, target, core.core) == AudioStatus::kNoSuchVoice);
  VS_CHECK(core.core->WatchTarget(-1, 1, &target) == RegistrarCore::WatchStatus::kNoSlot);
  VS_CHECK(core.core->WatchTarget(1 << 20, 1, &target) == RegistrarCore::WatchStatus::kNoSlot);
  // A stream that no longer plays when the watch is armed: the voice never sounds.
  VS_CHECK(core.Do(Action::kInterrupt, stream).allowed);
  const uint32_t late = WatchedVoice(*device, core, stream);
  VS_CHECK(device->CloseVoice(id) == AudioStatus::kOk);
  VS_CHECK(AllAt(Render(*device), 0.0f));
  VS_CHECK_EQ(Count(*device, late, VoiceEventKind::kInterrupted), 1u);
}

void TestWatchBindsToThePlaysSeq() {
  // Between spending a play permit and arming its voice's watch, another thread may interrupt the
  // stream and play it again: the word then says playing at a newer version. The watch of the
  // first play must not follow the second one (its voice would sound on after an allowed
  // interrupt until the sink's thread hears of it): it is refused as superseded.
  Core core;
  const int32_t stream = core.Playing("s");
  const uint64_t firstPlay = LastSeq(core, stream);
  for (Action action : {Action::kInterrupt, Action::kStop, Action::kRestart, Action::kStart, Action::kSynthesize, Action::kPlay}) {
    VS_CHECK(core.Do(action, stream).allowed);
  }
  StreamWatchTarget target;
  VS_CHECK(core.core->WatchTarget(stream, firstPlay, &target) == RegistrarCore::WatchStatus::kSuperseded);
  VS_CHECK(target.word == nullptr);  // untouched
  // A change that keeps the stream playing supersedes the permit too (as for spend()).
  const uint64_t secondPlay = LastSeq(core, stream);
  VS_CHECK(core.core->WatchTarget(stream, secondPlay, &target) == RegistrarCore::WatchStatus::kOk);
  VS_CHECK(core.Do(Action::kTransfer, stream, core.agent, core.other).allowed);
  VS_CHECK(core.core->WatchTarget(stream, secondPlay, &target) == RegistrarCore::WatchStatus::kSuperseded);
}

void TestVoiceKeepsCoreAlive() {
  auto device = OpenNull();
  std::weak_ptr<RegistrarCore> weak;
  uint32_t id = 0;
  {
    Core core;
    weak = core.core;
    const int32_t stream = core.Playing("s");
    id = WatchedVoice(*device, core, stream);
    VS_CHECK_EQ(core.core.use_count(), 2);
    VS_CHECK(AllAt(Render(*device), kLevel));
    VS_CHECK(core.Do(Action::kStop, stream).allowed);
  }  // the caller's reference is gone: only the voice holds the core (ASan: no use after free below)
  VS_CHECK(!weak.expired());
  VS_CHECK(FadesFromFirstFrame(Render(*device), device->FadeFrames()));
  VS_CHECK(device->CloseVoice(id) == AudioStatus::kOk);  // device stopped: the slot is freed here
  VS_CHECK(weak.expired());                              // released on this (control) thread
}

void TestCloseReleasesWatchesAndRings() {
  // Close() joins the device thread: nothing renders after it, so every slot (its ring, and the
  // reference to a watched core) goes at once, not when the device object is finally destroyed
  // (for the addon: when JS garbage-collects a closed AudioOutput, perhaps never).
  auto device = OpenNull();
  std::weak_ptr<RegistrarCore> weak;
  {
    Core core;
    weak = core.core;
    const uint32_t id = WatchedVoice(*device, core, core.Playing("s"));
    VS_CHECK(device->Start() == AudioStatus::kOk);
    (void)id;
  }
  VS_CHECK(!weak.expired());  // the running voice holds it
  device->Close();
  VS_CHECK(weak.expired());
  VS_CHECK_EQ(device->Stats().liveVoices, 0u);
}

void TestDecisionsFromAnotherThreadWhileRunning() {
  // The race: a running null device renders watched voices while another thread decides; every
  // voice ends interrupted, each within the periods after its decision (counted by the callback).
  Core core;
  auto device = OpenNull(64);
  VS_CHECK(device->Start() == AudioStatus::kOk);
  const int rounds = static_cast<int>(200 * vs::test::Scale()) + 4;
  std::atomic<int32_t> toEnd{-1};
  std::atomic<int> ended{0};
  std::thread decider([&] {
    for (int done = 0; done < rounds;) {
      const int32_t stream = toEnd.exchange(-1, std::memory_order_acq_rel);
      if (stream < 0) {
        std::this_thread::yield();
        continue;
      }
      VS_CHECK(core.Do(done % 2 == 0 ? Action::kInterrupt : Action::kStop, stream).allowed);
      ended.fetch_add(1, std::memory_order_release);
      ++done;
    }
  });
  for (int round = 0; round < rounds; ++round) {
    const int32_t stream = core.Playing("r" + std::to_string(round));
    const uint32_t id = WatchedVoice(*device, core, stream, 48000);
    toEnd.store(stream, std::memory_order_release);
    while (ended.load(std::memory_order_acquire) <= round) std::this_thread::yield();
    vs::VoiceStats stats;
    for (int wait = 0; wait < 20000; ++wait) {
      VS_CHECK(device->VoiceStatsOf(id, &stats) == AudioStatus::kOk);
      if (stats.phase == VoicePhase::kInterrupted) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    VS_CHECK(stats.phase == VoicePhase::kInterrupted);
    VS_CHECK(device->CloseVoice(id) == AudioStatus::kOk);
    std::vector<VoiceEvent> events(256);
    device->PollEvents(events.data(), events.size());
  }
  decider.join();
  VS_CHECK(device->Stop() == AudioStatus::kOk);
  VS_CHECK_EQ(device->Stats().liveVoices, 0u);
  VS_CHECK_EQ(device->Stats().completedInterruptGeneration, device->Stats().interruptGeneration);
}

}  // namespace

int main() {
  TestWordRule();
  TestEndingDecisionFadesNextPeriod();
  TestUnwatchedVoicePlaysOn();
  TestHaltFadesEveryWatchedVoice();
  TestArmingRules();
  TestWatchBindsToThePlaysSeq();
  TestVoiceKeepsCoreAlive();
  TestCloseReleasesWatchesAndRings();
  TestDecisionsFromAnotherThreadWhileRunning();
  return VS_TEST_RESULT("test_stream_watch");
}
