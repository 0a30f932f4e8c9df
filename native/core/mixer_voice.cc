#include "mixer_voice.h"

#include <algorithm>
#include <utility>

namespace vs {
namespace {

inline void Add(std::atomic<uint64_t>& counter, uint64_t amount) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

inline void Report(const MixPeriod& period, const MixerVoice& voice, VoiceEventKind kind, uint64_t deviceFrame) noexcept {
  VoiceEvent event;
  event.voiceId = voice.id;
  event.kind = kind;
  event.deviceFrame = deviceFrame;
  event.voiceFrame = voice.framesPlayed.load(std::memory_order_relaxed);
  period.events->Push(event);
}

// Applies a new gain request: a linear ramp from the current gain to the target.
inline void TakeGainRequest(MixerVoice& voice) noexcept {
  const uint64_t request = voice.gainRequest.load(std::memory_order_acquire);
  if (request == voice.seenGainRequest) return;
  voice.seenGainRequest = request;
  const uint32_t bits = static_cast<uint32_t>(request >> 32);
  const uint32_t rampFrames = static_cast<uint32_t>(request & 0xffffffffu);
  float target = 0.0f;
  std::memcpy(&target, &bits, sizeof target);
  voice.gainTarget = target;
  if (rampFrames == 0) {
    voice.gain = target;
    voice.gainRampFramesLeft = 0;
  } else {
    voice.gainStep = (target - voice.gain) / static_cast<float>(rampFrames);
    voice.gainRampFramesLeft = rampFrames;
  }
}

// out += scratch × gain (ramped per frame) × fade envelope (when fading).
void Accumulate(MixerVoice& voice, float* out, const float* scratch, uint32_t frames, uint32_t channels,
                bool fading, uint32_t fadeFrames) noexcept {
  const size_t samples = static_cast<size_t>(frames) * channels;
  if (!fading && voice.gainRampFramesLeft == 0) {
    const float gain = voice.gain;
    if (gain == 1.0f) {
      for (size_t i = 0; i < samples; ++i) out[i] += scratch[i];
    } else {
      for (size_t i = 0; i < samples; ++i) out[i] += scratch[i] * gain;
    }
    return;
  }
  const float fadeStep = 1.0f / static_cast<float>(fadeFrames);
  for (uint32_t frame = 0; frame < frames; ++frame) {
    float gain = voice.gain;
    if (voice.gainRampFramesLeft > 0) {
      voice.gain += voice.gainStep;
      if (--voice.gainRampFramesLeft == 0) voice.gain = voice.gainTarget;
    }
    if (fading) {
      // Linear ramp whose last frame is zero: frame k of the fade gets (F - 1 - k) / F.
      gain *= static_cast<float>(fadeFrames - 1 - (voice.fadeFramesDone + frame)) * fadeStep;
    }
    const size_t base = static_cast<size_t>(frame) * channels;
    for (uint32_t channel = 0; channel < channels; ++channel) out[base + channel] += scratch[base + channel] * gain;
  }
}

}  // namespace

void MixerVoice::Reset(uint32_t voiceId, std::unique_ptr<PcmRingBuffer> voiceRing, float initialGain) noexcept {
  id = voiceId;
  ring = std::move(voiceRing);
  closing = false;
  interruptCounted = false;
  interruptCompleted.store(false, std::memory_order_relaxed);
  interruptSeen = false;
  watchCut = false;
  DropWatch();
  interruptRequested.store(false, std::memory_order_relaxed);
  ended.store(false, std::memory_order_relaxed);
  seenGainRequest = PackGainRequest(initialGain, 0);
  gainRequest.store(seenGainRequest, std::memory_order_relaxed);
  framesPlayed.store(0, std::memory_order_relaxed);
  underruns.store(0, std::memory_order_relaxed);
  droppedFrames.store(0, std::memory_order_relaxed);
  phase.store(static_cast<uint32_t>(VoicePhase::kPending), std::memory_order_relaxed);
  gain = initialGain;
  gainTarget = initialGain;
  gainStep = 0.0f;
  gainRampFramesLeft = 0;
  fadeFramesDone = 0;
}

bool MixerVoice::ArmWatch(const StreamWatchTarget& target, std::shared_ptr<const void> owner) noexcept {
  if (watchArmed.load(std::memory_order_relaxed) || target.word == nullptr || target.halted == nullptr) return false;
  watch = target;
  watchOwner = std::move(owner);
  watchArmed.store(true, std::memory_order_release);
  return true;
}

void MixerVoice::DropWatch() noexcept {
  watchArmed.store(false, std::memory_order_relaxed);
  watch = StreamWatchTarget{};
  watchOwner.reset();
}

uint64_t MixVoice(MixerVoice& voice, const MixPeriod& period) noexcept {
  const auto lifecycle = static_cast<VoiceLifecycle>(voice.lifecycle.load(std::memory_order_acquire));
  if (lifecycle != VoiceLifecycle::kLive && lifecycle != VoiceLifecycle::kRetiring) return 0;
  const bool retiring = lifecycle == VoiceLifecycle::kRetiring;
  PcmRingBuffer& ring = *voice.ring;
  auto phase = static_cast<VoicePhase>(voice.phase.load(std::memory_order_relaxed));

  // An interrupt (or a retirement, which never cuts a sound short) starts the fade on this period,
  // and so does the watched stream no longer playing (stream_watch.h). A watch cut is not a
  // requested interrupt: it is counted complete when the control thread's request (the sink
  // closing on the transition) arrives, so the device's requested/completed counts stay paired.
  const bool interruptRequested = voice.interruptRequested.load(std::memory_order_acquire);
  if (interruptRequested) voice.interruptSeen = true;
  if (!voice.watchCut && voice.watchArmed.load(std::memory_order_acquire) && !StreamStillPlays(voice.watch)) {
    voice.watchCut = true;
  }
  if ((retiring || interruptRequested || voice.watchCut) &&
      (phase == VoicePhase::kPending || phase == VoicePhase::kPlaying)) {
    if (phase == VoicePhase::kPending) {
      // Nothing of it was ever heard: no fade needed.
      Add(voice.droppedFrames, ring.DiscardAll());
      phase = VoicePhase::kInterrupted;
      Report(period, voice, VoiceEventKind::kInterrupted, period.deviceFrame);
    } else {
      phase = VoicePhase::kFading;
      voice.fadeFramesDone = 0;
    }
  }
  TakeGainRequest(voice);
  // Seen before reading the ring (acquire): if it is set, every write came before it, so an
  // empty ring after this read means everything written has been mixed.
  const bool ended = voice.ended.load(std::memory_order_acquire);

  uint32_t done = 0;
  if (phase == VoicePhase::kPending || phase == VoicePhase::kPlaying || phase == VoicePhase::kFading) {
    bool dry = false;
    while (done < period.frames) {
      const bool fading = phase == VoicePhase::kFading;
      uint32_t wanted = std::min(period.frames - done, period.scratchFrames);
      if (fading) wanted = std::min(wanted, period.fadeFrames - voice.fadeFramesDone);
      if (wanted == 0) break;
      const auto got = static_cast<uint32_t>(ring.Read(period.scratch, wanted));
      if (got > 0 && phase == VoicePhase::kPending) {
        phase = VoicePhase::kPlaying;
        Report(period, voice, VoiceEventKind::kStarted, period.deviceFrame + done);
      }
      Accumulate(voice, period.out + static_cast<size_t>(done) * period.channels, period.scratch, got,
                 period.channels, fading, period.fadeFrames);
      done += got;
      if (fading) voice.fadeFramesDone += got;
      if (got < wanted) {
        dry = true;
        break;
      }
      if (fading && voice.fadeFramesDone >= period.fadeFrames) break;
    }
    Add(voice.framesPlayed, done);
    if (phase == VoicePhase::kFading && (dry || voice.fadeFramesDone >= period.fadeFrames)) {
      Add(voice.droppedFrames, ring.DiscardAll());
      phase = VoicePhase::kInterrupted;
      Report(period, voice, VoiceEventKind::kInterrupted, period.deviceFrame + done);
    } else if (phase == VoicePhase::kPlaying || phase == VoicePhase::kPending) {
      if (ended && ring.AvailableToRead() == 0) {
        phase = VoicePhase::kDrained;
        Report(period, voice, VoiceEventKind::kDrained, period.deviceFrame + done);
      } else if (phase == VoicePhase::kPlaying) {
        if (dry && !ended) {
          Add(voice.underruns, 1);
          Add(*period.underruns, 1);
          Add(*period.starvedFrames, period.frames - done);
          Report(period, voice, VoiceEventKind::kUnderrun, period.deviceFrame + done);
        }
        if (done > 0) Report(period, voice, VoiceEventKind::kPosition, period.deviceFrame + done);
      }
    }
  } else if (phase == VoicePhase::kInterrupted) {
    Add(voice.droppedFrames, ring.DiscardAll());
  }
  voice.phase.store(static_cast<uint32_t>(phase), std::memory_order_relaxed);
  const bool silent = phase == VoicePhase::kInterrupted || phase == VoicePhase::kDrained;
  if (voice.interruptSeen && silent && !voice.interruptCompleted.load(std::memory_order_relaxed)) {
    voice.interruptCompleted.store(true, std::memory_order_release);
    Add(*period.interruptsCompleted, 1);
  }
  if (retiring && (phase == VoicePhase::kInterrupted || phase == VoicePhase::kDrained)) {
    voice.lifecycle.store(static_cast<uint32_t>(VoiceLifecycle::kRetired), std::memory_order_release);
  }
  return done;
}

}  // namespace vs
