#include "audio_device.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <utility>

#include "alsa_quiet.h"
#include "device_catalog.h"
#include "ma_setup.h"

namespace vs {

struct AudioDevice::Backend {
  ma_context context;
  ma_device device;
  bool contextReady = false;
  bool deviceReady = false;
};

struct AudioDeviceCallbackAccess {
  static void DataCallback(ma_device* device, void* output, const void* /*input*/, ma_uint32 frames) {
    static_cast<AudioDevice*>(device->pUserData)->Render(static_cast<float*>(output), frames);
  }
};

namespace {

int64_t MonotonicNanos() noexcept {
  // steady_clock is CLOCK_MONOTONIC on Linux, read through the vDSO: no syscall, no lock.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Counters have one writer (whoever renders), so a load and a store is enough: no locked RMW.
inline void Add(std::atomic<uint64_t>& counter, uint64_t amount) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

AudioStatus ValidateConfig(const AudioDeviceConfig& config, const char** detail) noexcept {
  auto fail = [detail](AudioStatus status, const char* why) {
    if (detail != nullptr) *detail = why;
    return status;
  };
  if (config.sampleRateHz < AudioDevice::kMinSampleRateHz || config.sampleRateHz > AudioDevice::kMaxSampleRateHz) {
    return fail(AudioStatus::kInvalidSampleRate, "sampleRateHz must be between 8000 and 384000");
  }
  if (config.channels == 0 || config.channels > PcmRingBuffer::kMaxChannels) {
    return fail(AudioStatus::kInvalidChannels, "channels must be between 1 and 32");
  }
  if (config.periodFrames < AudioDevice::kMinPeriodFrames || config.periodFrames > config.sampleRateHz) {
    return fail(AudioStatus::kInvalidPeriod, "periodFrames must be between 16 and one second of frames");
  }
  if (config.bufferFrames < config.periodFrames || config.bufferFrames > PcmRingBuffer::kMaxCapacityFrames) {
    return fail(AudioStatus::kInvalidBufferSize, "bufferFrames must be at least periodFrames and at most 2^26");
  }
  if (config.captureFrames > PcmRingBuffer::kMaxCapacityFrames) {
    return fail(AudioStatus::kInvalidCaptureSize, "captureFrames must be at most 2^26");
  }
  return AudioStatus::kOk;
}

}  // namespace

const char* AudioStatusName(AudioStatus status) noexcept {
  switch (status) {
    case AudioStatus::kOk: return "OK";
    case AudioStatus::kInvalidSampleRate: return "AUDIO_INVALID_SAMPLE_RATE";
    case AudioStatus::kInvalidChannels: return "AUDIO_INVALID_CHANNELS";
    case AudioStatus::kInvalidPeriod: return "AUDIO_INVALID_PERIOD";
    case AudioStatus::kInvalidBufferSize: return "AUDIO_INVALID_BUFFER_SIZE";
    case AudioStatus::kInvalidCaptureSize: return "AUDIO_INVALID_CAPTURE_SIZE";
    case AudioStatus::kOutOfMemory: return "AUDIO_OUT_OF_MEMORY";
    case AudioStatus::kContextInitFailed: return "AUDIO_BACKEND_INIT_FAILED";
    case AudioStatus::kDeviceInitFailed: return "AUDIO_DEVICE_INIT_FAILED";
    case AudioStatus::kStartFailed: return "AUDIO_DEVICE_START_FAILED";
    case AudioStatus::kStopFailed: return "AUDIO_DEVICE_STOP_FAILED";
    case AudioStatus::kClosed: return "AUDIO_DEVICE_CLOSED";
    case AudioStatus::kRunning: return "AUDIO_DEVICE_RUNNING";
    case AudioStatus::kCaptureDisabled: return "AUDIO_CAPTURE_DISABLED";
    case AudioStatus::kNoFreeVoice: return "AUDIO_NO_FREE_VOICE";
    case AudioStatus::kNoSuchVoice: return "AUDIO_VOICE_CLOSED";
    case AudioStatus::kVoiceEnded: return "AUDIO_VOICE_ENDED";
    case AudioStatus::kVoiceInterrupted: return "AUDIO_VOICE_INTERRUPTED";
    case AudioStatus::kVoiceWatched: return "AUDIO_VOICE_WATCHED";
    case AudioStatus::kInvalidGain: return "AUDIO_INVALID_GAIN";
    case AudioStatus::kDeviceNotFound: return "AUDIO_DEVICE_NOT_FOUND";
  }
  return "AUDIO_UNKNOWN_STATUS";
}

size_t AudioDevice::EnabledBackendNames(const char** names, size_t capacity) noexcept {
  ma_backend backends[MA_BACKEND_COUNT];
  size_t count = 0;
  if (ma_get_enabled_backends(backends, MA_BACKEND_COUNT, &count) != MA_SUCCESS) return 0;
  for (size_t i = 0; i < count && i < capacity; ++i) names[i] = ma_get_backend_name(backends[i]);
  return count;
}

AudioStatus AudioDevice::Open(const AudioDeviceConfig& config, std::unique_ptr<AudioDevice>* out,
                              const char** detail) noexcept {
  const AudioStatus valid = ValidateConfig(config, detail);
  if (valid != AudioStatus::kOk) return valid;

  std::unique_ptr<PcmRingBuffer> ring;
  if (PcmRingBuffer::Create(config.bufferFrames, config.channels, &ring) != RingStatus::kOk) {
    return AudioStatus::kOutOfMemory;
  }
  std::unique_ptr<PcmRingBuffer> capture;
  if (config.captureFrames > 0 &&
      PcmRingBuffer::Create(config.captureFrames, config.channels, &capture) != RingStatus::kOk) {
    return AudioStatus::kOutOfMemory;
  }
  std::unique_ptr<float[]> scratch(new (std::nothrow) float[size_t{kMixChunkFrames} * config.channels]);
  std::unique_ptr<VoiceEventRing> events(new (std::nothrow) VoiceEventRing());
  if (!scratch || !events) return AudioStatus::kOutOfMemory;
  std::unique_ptr<AudioDevice> device(new (std::nothrow) AudioDevice(config, std::move(ring), std::move(capture),
                                                                     std::move(scratch), std::move(events)));
  std::unique_ptr<Backend> backend(new (std::nothrow) Backend());
  if (!device || !backend) return AudioStatus::kOutOfMemory;

  ma_context_config contextConfig = ma_context_config_init();
  ma_backend nullBackend[] = {ma_backend_null};
  const bool useNull = config.backend == AudioBackendChoice::kNull;
  if (!useNull) QuietAlsaErrors();
  ma_result result = ma_context_init(useNull ? nullBackend : nullptr, useNull ? 1 : 0, &contextConfig, &backend->context);
  if (result != MA_SUCCESS) {
    if (detail != nullptr) *detail = ma_result_description(result);
    return AudioStatus::kContextInitFailed;
  }
  backend->contextReady = true;

  ma_device_id chosen;
  bool haveChosen = false;
  if (!config.device.empty()) {
    haveChosen = FindPlaybackDevice(&backend->context, config.device, &chosen);
    if (!haveChosen) {
      if (detail != nullptr) *detail = "no playback device has that id or name (see listOutputDevices())";
      ma_context_uninit(&backend->context);
      return AudioStatus::kDeviceNotFound;
    }
  }

  ma_device_config deviceConfig = ma_device_config_init(ma_device_type_playback);
  deviceConfig.playback.format = ma_format_f32;
  deviceConfig.playback.channels = config.channels;
  deviceConfig.playback.pDeviceID = haveChosen ? &chosen : nullptr;
  deviceConfig.sampleRate = config.sampleRateHz;
  deviceConfig.periodSizeInFrames = config.periodFrames;
  deviceConfig.performanceProfile = ma_performance_profile_low_latency;
  deviceConfig.noPreSilencedOutputBuffer = MA_TRUE;  // Render() writes every sample
  deviceConfig.dataCallback = &AudioDeviceCallbackAccess::DataCallback;
  deviceConfig.pUserData = device.get();
  result = ma_device_init(&backend->context, &deviceConfig, &backend->device);
  if (result != MA_SUCCESS) {
    if (detail != nullptr) *detail = ma_result_description(result);
    ma_context_uninit(&backend->context);
    return AudioStatus::kDeviceInitFailed;
  }
  backend->deviceReady = true;
  try {
    device->backendName_ = ma_get_backend_name(backend->context.backend);
    char name[MA_MAX_DEVICE_NAME_LENGTH + 1] = {};
    if (ma_device_get_name(&backend->device, ma_device_type_playback, name, sizeof name, nullptr) == MA_SUCCESS) {
      device->deviceName_ = name;
    }
  } catch (...) {
    ma_device_uninit(&backend->device);
    ma_context_uninit(&backend->context);
    return AudioStatus::kOutOfMemory;
  }
  device->backend_ = std::move(backend);
  *out = std::move(device);
  return AudioStatus::kOk;
}

AudioDevice::AudioDevice(const AudioDeviceConfig& config, std::unique_ptr<PcmRingBuffer> ring,
                         std::unique_ptr<PcmRingBuffer> capture, std::unique_ptr<float[]> mixScratch,
                         std::unique_ptr<VoiceEventRing> events) noexcept
    : config_(config),
      fadeFrames_(std::max<uint32_t>(1, static_cast<uint32_t>(uint64_t{config.sampleRateHz} * kFadeMs / 1000))),
      ring_(std::move(ring)),
      capture_(std::move(capture)),
      mixScratch_(std::move(mixScratch)),
      events_(std::move(events)) {}

AudioDevice::~AudioDevice() { Close(); }

AudioStatus AudioDevice::Start() noexcept {
  if (closed_) return AudioStatus::kClosed;
  if (started_.load(std::memory_order_relaxed)) {
    if (ma_device_get_state(&backend_->device) != ma_device_state_stopped) return AudioStatus::kOk;
    // miniaudio stopped it on its own (a lost device): start it again below.
    started_.store(false, std::memory_order_release);
  }
  // The callback is not running, so this thread may touch its state. An interrupt that came in
  // while stopped needs no fade: go straight to silence (the callback then drops and resumes).
  const uint32_t generation = interruptGeneration_.load(std::memory_order_acquire);
  if (generation != seenInterruptGeneration_) {
    seenInterruptGeneration_ = generation;
    phase_ = Phase::kSilenced;
  }
  if (ma_device_start(&backend_->device) != MA_SUCCESS) return AudioStatus::kStartFailed;
  started_.store(true, std::memory_order_release);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::Stop() noexcept {
  if (closed_) return AudioStatus::kClosed;
  if (!started_.load(std::memory_order_relaxed)) return AudioStatus::kOk;
  if (ma_device_stop(&backend_->device) != MA_SUCCESS) return AudioStatus::kStopFailed;
  started_.store(false, std::memory_order_release);
  ReclaimVoices();  // no callback runs now: retiring voices can go
  return AudioStatus::kOk;
}

void AudioDevice::Close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (backend_) {
    // ma_device_uninit stops the device and joins its thread: no callback runs after this.
    if (backend_->deviceReady) ma_device_uninit(&backend_->device);
    if (backend_->contextReady) ma_context_uninit(&backend_->context);
    backend_.reset();
  }
  started_.store(false, std::memory_order_release);
  // Nothing renders any more (RenderWhileStopped refuses a closed device): every slot goes now,
  // its ring and its watched core's reference with it, not when this object is finally destroyed
  // (for the addon, when JS collects the closed output: maybe never while something holds it).
  const uint32_t slots = voiceSlotsUsed_.load(std::memory_order_relaxed);
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if (voices_[slot].lifecycle.load(std::memory_order_acquire) != static_cast<uint32_t>(VoiceLifecycle::kFree)) {
      FreeSlot(voices_[slot]);
    }
  }
}

AudioStatus AudioDevice::Write(const float* samples, size_t frames, size_t* accepted) noexcept {
  *accepted = 0;
  if (closed_) return AudioStatus::kClosed;
  *accepted = ring_->Write(samples, frames);
  return AudioStatus::kOk;
}

uint32_t AudioDevice::Interrupt() noexcept {
  return interruptGeneration_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

AudioStatus AudioDevice::Resume() noexcept {
  if (closed_) return AudioStatus::kClosed;
  const uint32_t generation = interruptGeneration_.load(std::memory_order_acquire);
  if (resumeGeneration_.load(std::memory_order_relaxed) == generation) return AudioStatus::kOk;
  // The boundary is stored before the generation that publishes it (release): a callback that
  // sees the new generation sees this boundary or a later one.
  resumeBoundaryFrames_.store(ring_->WritePosition(), std::memory_order_relaxed);
  resumeGeneration_.store(generation, std::memory_order_release);
  return AudioStatus::kOk;
}

AudioDeviceStats AudioDevice::Stats() const noexcept {
  AudioDeviceStats stats;
  stats.framesPlayed = framesPlayed_.load(std::memory_order_relaxed);
  stats.underruns = underruns_.load(std::memory_order_relaxed);
  stats.starvedFrames = starvedFrames_.load(std::memory_order_relaxed);
  stats.droppedFrames = droppedFrames_.load(std::memory_order_relaxed);
  stats.captureOverflowFrames = captureOverflowFrames_.load(std::memory_order_relaxed);
  stats.callbacks = callbacks_.load(std::memory_order_relaxed);
  const int64_t last = lastCallbackNanos_.load(std::memory_order_relaxed);
  stats.nanosSinceLastCallback = last < 0 ? -1 : std::max<int64_t>(0, MonotonicNanos() - last);
  stats.bufferedFrames = ring_->AvailableToRead();
  const uint32_t generation = interruptGeneration_.load(std::memory_order_acquire);
  stats.interrupted = generation != resumeGeneration_.load(std::memory_order_acquire);
  // Voice interrupts count too, so "completed >= requested" means every fade asked for is done.
  stats.interruptGeneration = generation + static_cast<uint32_t>(voiceInterruptsRequested_.load(std::memory_order_acquire));
  stats.completedInterruptGeneration = completedInterruptGeneration_.load(std::memory_order_acquire) +
                                       static_cast<uint32_t>(voiceInterruptsCompleted_.load(std::memory_order_acquire));
  // Started by us and still running: miniaudio stops a device on its own when it is lost (its
  // state is an atomic the control thread may read; no notification callback touches N-API).
  stats.started = started_.load(std::memory_order_acquire) && backend_ &&
                  ma_device_get_state(&backend_->device) == ma_device_state_started;
  stats.deviceFrames = deviceFrames_.load(std::memory_order_relaxed);
  const uint32_t slots = voiceSlotsUsed_.load(std::memory_order_acquire);
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if (voices_[slot].lifecycle.load(std::memory_order_acquire) != static_cast<uint32_t>(VoiceLifecycle::kFree)) {
      ++stats.liveVoices;
    }
  }
  stats.droppedEvents = events_->Dropped();
  return stats;
}

AudioStatus AudioDevice::ReadCapture(float* out, size_t frames, size_t* copied) noexcept {
  *copied = 0;
  if (!capture_) return AudioStatus::kCaptureDisabled;
  *copied = capture_->Read(out, frames);
  return AudioStatus::kOk;
}

AudioStatus AudioDevice::RenderWhileStopped(float* out, uint32_t frames) noexcept {
  if (closed_) return AudioStatus::kClosed;
  if (started_.load(std::memory_order_acquire)) return AudioStatus::kRunning;
  Render(out, frames);
  return AudioStatus::kOk;
}

void AudioDevice::Render(float* out, uint32_t frames) noexcept {
  lastCallbackNanos_.store(MonotonicNanos(), std::memory_order_relaxed);
  Add(callbacks_, 1);
  const uint32_t slots = voiceSlotsUsed_.load(std::memory_order_acquire);
  bool anyVoice = false;
  for (uint32_t slot = 0; slot < slots && !anyVoice; ++slot) {
    anyVoice = voices_[slot].lifecycle.load(std::memory_order_relaxed) != static_cast<uint32_t>(VoiceLifecycle::kFree);
  }
  // The default ring running dry is an underrun only when it is the only source.
  RenderDefaultRing(out, frames, !anyVoice);
  // Every live voice on top: sum × gain.
  const uint64_t deviceFrame = deviceFrames_.load(std::memory_order_relaxed);
  if (anyVoice) {
    const MixPeriod period{out, frames, config_.channels, mixScratch_.get(), kMixChunkFrames, deviceFrame, fadeFrames_,
                           events_.get(), &voiceInterruptsCompleted_, &underruns_, &starvedFrames_};
    uint64_t mixed = 0;
    for (uint32_t slot = 0; slot < slots; ++slot) mixed += MixVoice(voices_[slot], period);
    Add(framesPlayed_, mixed);
  }
  deviceFrames_.store(deviceFrame + frames, std::memory_order_relaxed);
  if (capture_) {
    const size_t captured = capture_->Write(out, frames);
    if (captured < frames) Add(captureOverflowFrames_, frames - captured);
  }
}

void AudioDevice::RenderDefaultRing(float* out, uint32_t frames, bool countUnderruns) noexcept {
  const uint32_t channels = config_.channels;

  const uint32_t generation = interruptGeneration_.load(std::memory_order_acquire);
  if (generation != seenInterruptGeneration_) {
    seenInterruptGeneration_ = generation;
    if (phase_ == Phase::kPlaying) {
      phase_ = Phase::kFading;
      fadeFramesDone_ = 0;
    }
  }
  // A Resume() for the interrupt we are handling: where the next utterance starts in the ring.
  bool resumed = false;
  uint64_t boundary = UINT64_MAX;
  if (phase_ != Phase::kPlaying && resumeGeneration_.load(std::memory_order_acquire) == seenInterruptGeneration_) {
    resumed = true;
    boundary = resumeBoundaryFrames_.load(std::memory_order_relaxed);
  }

  uint32_t done = 0;
  if (phase_ == Phase::kFading) {
    // Fade only frames of the interrupted utterance: never read past the resume boundary.
    uint64_t limit = fadeFrames_ - fadeFramesDone_;
    if (resumed) {
      const uint64_t read = ring_->ReadPosition();
      limit = std::min<uint64_t>(limit, boundary > read ? boundary - read : 0);
    }
    const uint32_t wanted = static_cast<uint32_t>(std::min<uint64_t>(frames, limit));
    const uint32_t got = static_cast<uint32_t>(ring_->Read(out, wanted));
    // Linear ramp whose last frame is zero: frame k of the fade gets (F - 1 - k) / F.
    const float step = 1.0f / static_cast<float>(fadeFrames_);
    for (uint32_t frame = 0; frame < got; ++frame) {
      const float gain = static_cast<float>(fadeFrames_ - 1 - (fadeFramesDone_ + frame)) * step;
      float* sample = out + static_cast<size_t>(frame) * channels;
      for (uint32_t channel = 0; channel < channels; ++channel) sample[channel] *= gain;
    }
    Add(framesPlayed_, got);
    fadeFramesDone_ += got;
    done = got;
    // Done fading, or nothing more to fade (ring dry or boundary reached): silence from here.
    if (fadeFramesDone_ >= fadeFrames_ || got < wanted || got == limit) phase_ = Phase::kSilenced;
  }
  if (phase_ == Phase::kSilenced) {
    if (resumed) {
      Add(droppedFrames_, ring_->DiscardUntil(boundary));
      phase_ = Phase::kPlaying;
    } else {
      Add(droppedFrames_, ring_->DiscardAll());
    }
    completedInterruptGeneration_.store(seenInterruptGeneration_, std::memory_order_release);
    if (!resumed) {
      std::memset(out + static_cast<size_t>(done) * channels, 0,
                  static_cast<size_t>(frames - done) * channels * sizeof(float));
      done = frames;
    }
  }
  if (phase_ == Phase::kPlaying && done < frames) {
    const uint32_t got = static_cast<uint32_t>(ring_->Read(out + static_cast<size_t>(done) * channels, frames - done));
    Add(framesPlayed_, got);
    done += got;
    if (done < frames && countUnderruns) {
      Add(underruns_, 1);
      Add(starvedFrames_, frames - done);
    }
  }
  if (done < frames) {
    std::memset(out + static_cast<size_t>(done) * channels, 0,
                static_cast<size_t>(frames - done) * channels * sizeof(float));
  }
}

}  // namespace vs
