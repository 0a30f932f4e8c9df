// AudioDevice's voice table on the control thread (open, write, end, interrupt, gain, stats,
// close, reclaim, events) and the device listing. The callback side of voices is MixVoice()
// (mixer_voice.cc), called from AudioDevice::Render(); the ownership protocol of a slot is in
// mixer_voice.h.
#include <utility>

#include "alsa_quiet.h"
#include "audio_device.h"
#include "device_catalog.h"
#include "ma_setup.h"

namespace vs {

AudioStatus AudioDevice::ListOutputDevices(AudioBackendChoice backend, std::vector<OutputDeviceInfo>* out,
                                           const char** detail) noexcept {
  ma_context context;
  ma_context_config contextConfig = ma_context_config_init();
  ma_backend nullBackend[] = {ma_backend_null};
  const bool useNull = backend == AudioBackendChoice::kNull;
  if (!useNull) QuietAlsaErrors();
  ma_result result = ma_context_init(useNull ? nullBackend : nullptr, useNull ? 1 : 0, &contextConfig, &context);
  if (result != MA_SUCCESS) {
    if (detail != nullptr) *detail = ma_result_description(result);
    return AudioStatus::kContextInitFailed;
  }
  bool listed = false;
  try {
    listed = ListPlaybackDevices(&context, out, &result);
  } catch (...) {
    ma_context_uninit(&context);
    return AudioStatus::kOutOfMemory;
  }
  ma_context_uninit(&context);
  if (!listed) {
    if (detail != nullptr) *detail = ma_result_description(result);
    return AudioStatus::kDeviceInitFailed;
  }
  return AudioStatus::kOk;
}

MixerVoice* AudioDevice::FindVoice(uint32_t id, bool includeClosing) noexcept {
  const uint32_t slots = voiceSlotsUsed_.load(std::memory_order_relaxed);
  for (uint32_t slot = 0; slot < slots; ++slot) {
    MixerVoice& voice = voices_[slot];
    if (voice.id == id && (includeClosing || !voice.closing) && voice.lifecycle.load(std::memory_order_acquire) != static_cast<uint32_t>(VoiceLifecycle::kFree)) {
      return &voice;
    }
  }
  return nullptr;
}

const MixerVoice* AudioDevice::FindVoice(uint32_t id, bool includeClosing) const noexcept {
  return const_cast<AudioDevice*>(this)->FindVoice(id, includeClosing);
}

void AudioDevice::CountVoiceInterrupt(MixerVoice& voice) noexcept {
  if (voice.interruptCounted) return;
  voice.interruptCounted = true;
  voiceInterruptsRequested_.store(voiceInterruptsRequested_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void AudioDevice::FreeSlot(MixerVoice& voice) noexcept {
  // The renderer has let go (kRetired), or no renderer runs: the ring can go. An interrupt the
  // renderer never got to (a stopped device) is complete now: the voice will never sound again.
  if (voice.interruptCounted && !voice.interruptCompleted.load(std::memory_order_acquire)) {
    voice.interruptCompleted.store(true, std::memory_order_relaxed);
    voiceInterruptsCompleted_.store(voiceInterruptsCompleted_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  voice.ring.reset();
  voice.DropWatch();  // may release the last reference to a registrar core: here, never in the callback
  voice.id = 0;
  voice.lifecycle.store(static_cast<uint32_t>(VoiceLifecycle::kFree), std::memory_order_release);
}

void AudioDevice::ReclaimVoices() noexcept {
  const bool rendering = started_.load(std::memory_order_relaxed) && !closed_;
  const uint32_t slots = voiceSlotsUsed_.load(std::memory_order_relaxed);
  for (uint32_t slot = 0; slot < slots; ++slot) {
    MixerVoice& voice = voices_[slot];
    const auto lifecycle = static_cast<VoiceLifecycle>(voice.lifecycle.load(std::memory_order_acquire));
    if (lifecycle == VoiceLifecycle::kRetired || (lifecycle == VoiceLifecycle::kRetiring && !rendering)) FreeSlot(voice);
  }
}

AudioStatus AudioDevice::OpenVoice(uint32_t bufferFrames, float gain, uint32_t* id) noexcept {
  *id = 0;
  if (closed_) return AudioStatus::kClosed;
  if (!(gain >= 0.0f && gain <= kMaxGain)) return AudioStatus::kInvalidGain;
  if (bufferFrames == 0 || bufferFrames > PcmRingBuffer::kMaxCapacityFrames) return AudioStatus::kInvalidBufferSize;
  ReclaimVoices();
  uint32_t slot = 0;
  while (slot < kMaxVoices &&
         voices_[slot].lifecycle.load(std::memory_order_acquire) != static_cast<uint32_t>(VoiceLifecycle::kFree)) {
    ++slot;
  }
  if (slot == kMaxVoices) return AudioStatus::kNoFreeVoice;
  std::unique_ptr<PcmRingBuffer> ring;
  if (PcmRingBuffer::Create(bufferFrames, config_.channels, &ring) != RingStatus::kOk) return AudioStatus::kOutOfMemory;
  MixerVoice& voice = voices_[slot];
  voice.Reset(nextVoiceId_++, std::move(ring), gain);
  if (nextVoiceId_ == 0) nextVoiceId_ = 1;  // 0 is never an id
  // Publish: the slot's fields first, then its lifecycle, then the slot range (all release).
  voice.lifecycle.store(static_cast<uint32_t>(VoiceLifecycle::kLive), std::memory_order_release);
  if (slot >= voiceSlotsUsed_.load(std::memory_order_relaxed)) voiceSlotsUsed_.store(slot + 1, std::memory_order_release);
  *id = voice.id;
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::WriteVoice(uint32_t id, const float* samples, size_t frames, size_t* accepted) noexcept {
  *accepted = 0;
  if (closed_) return AudioStatus::kClosed;
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr || voice->lifecycle.load(std::memory_order_relaxed) != static_cast<uint32_t>(VoiceLifecycle::kLive)) {
    return AudioStatus::kNoSuchVoice;
  }
  if (voice->interruptRequested.load(std::memory_order_relaxed)) return AudioStatus::kVoiceInterrupted;
  if (voice->ended.load(std::memory_order_relaxed)) return AudioStatus::kVoiceEnded;
  // A watched stream that no longer plays takes nothing more (the ring is dropped anyway): the
  // writer waits as on a full ring until the stream's sink closes on the transition.
  if (voice->watchArmed.load(std::memory_order_relaxed) && !StreamStillPlays(voice->watch)) return AudioStatus::kOk;
  *accepted = voice->ring->Write(samples, frames);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::EndVoice(uint32_t id) noexcept {
  if (closed_) return AudioStatus::kClosed;
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  voice->ended.store(true, std::memory_order_release);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::InterruptVoice(uint32_t id) noexcept {
  if (closed_) return AudioStatus::kClosed;
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  CountVoiceInterrupt(*voice);
  voice->interruptRequested.store(true, std::memory_order_release);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::WatchVoice(uint32_t id, const StreamWatchTarget& target, std::shared_ptr<const void> owner) noexcept {
  if (closed_) return AudioStatus::kClosed;
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  if (!voice->ArmWatch(target, std::move(owner))) return AudioStatus::kVoiceWatched;
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::SetVoiceGain(uint32_t id, float gain, uint32_t rampFrames) noexcept {
  if (closed_) return AudioStatus::kClosed;
  if (!(gain >= 0.0f && gain <= kMaxGain)) return AudioStatus::kInvalidGain;
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  voice->gainRequest.store(PackGainRequest(gain, rampFrames), std::memory_order_release);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::VoiceStatsOf(uint32_t id, VoiceStats* stats) const noexcept {
  const MixerVoice* voice = FindVoice(id, /*includeClosing=*/true);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  stats->framesPlayed = voice->framesPlayed.load(std::memory_order_relaxed);
  stats->underruns = voice->underruns.load(std::memory_order_relaxed);
  stats->droppedFrames = voice->droppedFrames.load(std::memory_order_relaxed);
  stats->bufferedFrames = voice->ring->AvailableToRead();
  stats->phase = static_cast<VoicePhase>(voice->phase.load(std::memory_order_relaxed));
  stats->ended = voice->ended.load(std::memory_order_relaxed);
  stats->interruptRequested = voice->interruptRequested.load(std::memory_order_relaxed);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::CloseVoice(uint32_t id) noexcept {
  MixerVoice* voice = FindVoice(id);
  if (voice == nullptr) return AudioStatus::kNoSuchVoice;
  if (voice->lifecycle.load(std::memory_order_relaxed) == static_cast<uint32_t>(VoiceLifecycle::kLive)) {
    // Retiring a voice that still holds sound is an interrupt (it fades out): count it as one.
    const bool finished = voice->ended.load(std::memory_order_relaxed) && voice->ring->AvailableToRead() == 0;
    if (!finished) {
      CountVoiceInterrupt(*voice);
      voice->interruptRequested.store(true, std::memory_order_release);
    }
    voice->lifecycle.store(static_cast<uint32_t>(VoiceLifecycle::kRetiring), std::memory_order_release);
  }
  // Hidden from FindVoice from now on; freed at once when no callback can be running.
  voice->closing = true;
  ReclaimVoices();
  return AudioStatus::kOk;
}

size_t AudioDevice::PollEvents(VoiceEvent* out, size_t capacity) noexcept {
  const size_t count = events_->Pop(out, capacity);
  ReclaimVoices();
  return count;
}

}  // namespace vs
