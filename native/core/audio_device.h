// A miniaudio playback device fed from a PcmRingBuffer.
//
// Threads and roles:
//   - the control thread (the JS thread that owns the device) opens, starts, stops and closes it
//     and is the ring's single producer (Write, Resume);
//   - miniaudio's device thread runs Render() once per period and is the ring's single consumer;
//   - Stats() and Interrupt() may come from any thread;
//   - with capture on, Render() is the producer of a second ring and the control thread (or one
//     other thread) its single consumer (ReadCapture).
//
// Render() reads the ring and a few atomics only: it never allocates, locks, logs or calls into
// Node. When the ring runs dry it pads with silence and counts an underrun.
//
// Interrupt and resume. Interrupt() bumps an interrupt generation. On its next period the callback
// fades what it is playing to zero over at most kFadeMs, then outputs silence and drops whatever the
// ring holds, every period, until Resume() is called. Resume() marks the current write position as
// the start of the next utterance: the callback drops everything before that mark and plays what
// comes after it. So `Interrupt(); Resume(); Write(next)` plays `next` in full, with no tail of the
// interrupted utterance, however the three calls interleave with the callback.
//
// Voices. Besides that default ring (the "legacy" voice), the device mixes up to kMaxVoices voices,
// each with its own ring, gain ramp, interrupt fade and counters (mixer_voice.h): the output is the
// default ring plus the sum of every live voice × its gain, O(voices × frames) per period.
// Interrupting a voice fades only that voice. The callback reports what happens to voices through
// an SPSC event ring (voice_event_ring.h) that the control thread drains with PollEvents().
// OpenVoice allocates a voice's ring on the control thread and publishes it; CloseVoice retires it,
// and the ring is freed only once the callback has acknowledged the retirement.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixer_voice.h"
#include "pcm_ring_buffer.h"
#include "voice_event_ring.h"

namespace vs {

/** Result of a device operation. */
enum class AudioStatus : int {
  kOk = 0,
  kInvalidSampleRate,   // sampleRateHz outside [kMinSampleRateHz, kMaxSampleRateHz]
  kInvalidChannels,     // channels outside [1, PcmRingBuffer::kMaxChannels]
  kInvalidPeriod,       // periodFrames outside [kMinPeriodFrames, sampleRateHz]
  kInvalidBufferSize,   // bufferFrames below periodFrames or above the ring maximum
  kInvalidCaptureSize,  // captureFrames above the ring maximum
  kOutOfMemory,
  kContextInitFailed,   // miniaudio could not initialise the backend
  kDeviceInitFailed,    // miniaudio could not open the playback device
  kStartFailed,
  kStopFailed,
  kClosed,              // the device was closed
  kRunning,             // the operation needs a stopped device
  kCaptureDisabled,     // ReadCapture() on a device opened without capture
  kNoFreeVoice,         // every voice slot is in use
  kNoSuchVoice,         // no open voice has that id (never opened, or closed)
  kVoiceEnded,          // a write after EndVoice()
  kVoiceInterrupted,    // a write after InterruptVoice()
  kInvalidGain,         // a gain that is negative, not finite, or above kMaxGain
  kDeviceNotFound,      // no playback device has the id or name asked for
  kVoiceWatched,        // WatchVoice() on a voice that already watches a stream
};

/**
 * Stable name of a status, e.g. "AUDIO_DEVICE_INIT_FAILED" (a static string).
 * Thread safety: any thread. Callback safety: yes.
 */
const char* AudioStatusName(AudioStatus status) noexcept;

/** Which miniaudio backend to open. */
enum class AudioBackendChoice : int {
  kSystemDefault = 0,  // miniaudio's platform order (WASAPI, Core Audio, PulseAudio, ALSA, ...)
  kNull = 1,           // ma_backend_null: paced in real time, no sound card (tests, headless)
};

/** What to open. Sizes are in frames (one sample per channel). */
struct AudioDeviceConfig {
  AudioBackendChoice backend = AudioBackendChoice::kSystemDefault;
  uint32_t sampleRateHz = 48000;
  uint32_t channels = 2;
  uint32_t periodFrames = 480;   // frames per callback
  uint32_t bufferFrames = 48000; // capacity of the playback ring
  uint32_t captureFrames = 0;    // capacity of the capture ring; 0 = capture off
  std::string device;            // a playback device's id or name (DeviceCatalog); empty = the default
};

/** One playback device a backend offers (ListOutputDevices). */
struct OutputDeviceInfo {
  std::string id;       // the backend's own device id as text (stable for a backend and device)
  std::string name;     // the backend's human-readable name
  bool isDefault = false;
  std::string backend;  // miniaudio's backend name ("ALSA", "PulseAudio", "Null", ...)
};

/** A snapshot of one voice's counters. */
struct VoiceStats {
  uint64_t framesPlayed = 0;   // frames of this voice mixed (faded ones included)
  uint64_t underruns = 0;      // periods where the started, not ended voice had too few frames
  uint64_t droppedFrames = 0;  // frames dropped by its interrupt
  uint64_t bufferedFrames = 0; // frames waiting in its ring
  VoicePhase phase = VoicePhase::kPending;
  bool ended = false;
  bool interruptRequested = false;
};

/** A snapshot of the device's counters. */
struct AudioDeviceStats {
  uint64_t framesPlayed = 0;          // frames taken from the default ring and every voice (faded ones included)
  uint64_t underruns = 0;             // periods the default ring ran dry while no voice was open, plus voice underruns
  uint64_t starvedFrames = 0;         // silent frames written because of underruns
  uint64_t droppedFrames = 0;         // frames dropped from the ring by interrupts
  uint64_t captureOverflowFrames = 0; // output frames the full capture ring could not take
  uint64_t callbacks = 0;             // periods rendered
  int64_t nanosSinceLastCallback = -1; // -1 before the first callback
  uint64_t bufferedFrames = 0;        // frames waiting in the ring
  uint32_t interruptGeneration = 0;   // interrupts requested so far (default ring and voices)
  uint32_t completedInterruptGeneration = 0; // interrupts whose fade and drop are done (default ring and voices)
  bool interrupted = false;           // an interrupt of the default ring is in force (no Resume() since)
  bool started = false;
  uint64_t deviceFrames = 0;          // frames the device has output (periods × frames)
  uint32_t liveVoices = 0;            // voices opened and not yet freed
  uint64_t droppedEvents = 0;         // voice events the full event ring could not take
};

class AudioDevice {
 public:
  /** Longest fade an interrupt applies. */
  static constexpr uint32_t kFadeMs = 5;
  static constexpr uint32_t kMinSampleRateHz = 8000;
  static constexpr uint32_t kMaxSampleRateHz = 384000;
  static constexpr uint32_t kMinPeriodFrames = 16;
  /** Voices the mixer holds at once (the default ring not counted). */
  static constexpr uint32_t kMaxVoices = 64;
  /** Largest linear gain of a voice (+24 dB). */
  static constexpr float kMaxGain = 15.85f;

  /**
   * Validates `config`, allocates the rings and opens (but does not start) the device. On failure
   * `*detail` (when not null) gets a static description from miniaudio or of the bad field.
   * Thread safety: any thread. Callback safety: no (allocates, opens the backend).
   */
  [[nodiscard]] static AudioStatus Open(const AudioDeviceConfig& config, std::unique_ptr<AudioDevice>* out,
                                        const char** detail) noexcept;

  /**
   * The names of the backends compiled into miniaudio, in its priority order ("alsa", "null", ...).
   * Writes up to `capacity` static strings and returns how many there are in all.
   * Thread safety: any thread. Callback safety: yes.
   */
  static size_t EnabledBackendNames(const char** names, size_t capacity) noexcept;

  /**
   * The playback devices of `backend` (opens and closes a miniaudio context). On failure `*detail`
   * (when not null) gets miniaudio's static description.
   * Thread safety: any thread. Callback safety: no (allocates, queries the backend).
   */
  [[nodiscard]] static AudioStatus ListOutputDevices(AudioBackendChoice backend, std::vector<OutputDeviceInfo>* out,
                                                     const char** detail) noexcept;

  /** Stops and closes the device. Thread safety: control thread. Callback safety: no. */
  ~AudioDevice();

  AudioDevice(const AudioDevice&) = delete;
  AudioDevice& operator=(const AudioDevice&) = delete;

  /**
   * Starts the callback. Write a period or more first so the first callbacks do not underrun.
   * An Interrupt() that arrived while stopped takes effect without a fade (nothing was audible).
   * Thread safety: control thread. Callback safety: no (waits for the backend).
   */
  [[nodiscard]] AudioStatus Start() noexcept;

  /**
   * Stops the callback; what the ring holds stays for the next Start(). Returns once the callback
   * has returned for the last time. Thread safety: control thread. Callback safety: no.
   */
  [[nodiscard]] AudioStatus Stop() noexcept;

  /**
   * Stops and releases the backend, then frees every voice slot (rings, watched cores); later
   * calls return kClosed. Idempotent.
   * Thread safety: control thread. Callback safety: no (joins the device thread).
   */
  void Close() noexcept;

  /**
   * Queues up to `frames` interleaved frames and sets `*accepted` to how many fitted. Never blocks.
   * Thread safety: the producer (control) thread only. Callback safety: yes (wait-free).
   */
  [[nodiscard]] AudioStatus Write(const float* samples, size_t frames, size_t* accepted) noexcept;

  /**
   * Requests a fade-out (<= kFadeMs) on the next period, then silence, dropping what the ring holds
   * until Resume(). Returns the new interrupt generation.
   * Thread safety: any thread. Callback safety: yes (one atomic increment).
   */
  uint32_t Interrupt() noexcept;

  /**
   * Ends the interrupt in force: frames written from now on play; everything written before is
   * dropped. Does nothing when no interrupt is in force.
   * Thread safety: the producer (control) thread only. Callback safety: yes.
   */
  [[nodiscard]] AudioStatus Resume() noexcept;

  /** A snapshot of the counters. Thread safety: any thread. Callback safety: yes (atomic loads). */
  AudioDeviceStats Stats() const noexcept;

  /**
   * Copies up to `frames` frames of what the callback output into `out`; `*copied` gets how many.
   * Thread safety: one capture-consumer thread. Callback safety: yes (wait-free).
   */
  [[nodiscard]] AudioStatus ReadCapture(float* out, size_t frames, size_t* copied) noexcept;

  /**
   * Runs the callback's render function on the calling thread, writing `frames` frames to `out`
   * exactly as the device would (for benchmarks and device-less tests). Needs a stopped device.
   * Thread safety: control thread. Callback safety: n/a (it is the callback body).
   */
  [[nodiscard]] AudioStatus RenderWhileStopped(float* out, uint32_t frames) noexcept;

  /**
   * Opens a voice with its own ring of `bufferFrames` frames (allocated here) at linear `gain`, and
   * publishes it to the callback; `*id` gets its id (never reused by this device).
   * Thread safety: control thread. Callback safety: no (allocates).
   */
  [[nodiscard]] AudioStatus OpenVoice(uint32_t bufferFrames, float gain, uint32_t* id) noexcept;

  /**
   * Queues up to `frames` interleaved frames on voice `id`; `*accepted` gets how many fitted.
   * Refused after EndVoice (kVoiceEnded) or InterruptVoice (kVoiceInterrupted). Never blocks.
   * A voice whose watched stream no longer plays (WatchVoice) accepts 0 frames.
   * Thread safety: control thread (the voice's producer). Callback safety: yes (wait-free).
   */
  [[nodiscard]] AudioStatus WriteVoice(uint32_t id, const float* samples, size_t frames, size_t* accepted) noexcept;

  /**
   * No more input for voice `id`: once its ring is empty the callback marks it drained.
   * Thread safety: control thread. Callback safety: yes.
   */
  [[nodiscard]] AudioStatus EndVoice(uint32_t id) noexcept;

  /**
   * Fades voice `id` (only it) to zero within kFadeMs from the next period, then drops what it
   * holds. Idempotent. Thread safety: control thread. Callback safety: yes (one atomic store).
   */
  [[nodiscard]] AudioStatus InterruptVoice(uint32_t id) noexcept;

  /**
   * Makes voice `id` follow a registrar stream (stream_watch.h): from the first period in which
   * the stream no longer plays (or its core halted) the callback fades the voice out as for
   * InterruptVoice. `owner` keeps the core `target` points into alive; it is released on this
   * thread when the slot is freed. Once per voice (kVoiceWatched after).
   * Thread safety: control thread. Callback safety: no (copies a shared reference).
   */
  [[nodiscard]] AudioStatus WatchVoice(uint32_t id, const StreamWatchTarget& target, std::shared_ptr<const void> owner) noexcept;

  /**
   * Ramps voice `id`'s gain linearly to `gain` over `rampFrames` frames (0: at once) from the next
   * period. Thread safety: control thread. Callback safety: yes (one atomic store).
   */
  [[nodiscard]] AudioStatus SetVoiceGain(uint32_t id, float gain, uint32_t rampFrames) noexcept;

  /**
   * A snapshot of voice `id`'s counters, also after CloseVoice() until the slot is freed.
   * Thread safety: control thread. Callback safety: yes.
   */
  [[nodiscard]] AudioStatus VoiceStatsOf(uint32_t id, VoiceStats* stats) const noexcept;

  /**
   * Retires voice `id`: a playing voice fades out first (never cut short); its ring is freed once
   * the callback acknowledges (at once on a stopped device). Later calls with `id` get kNoSuchVoice.
   * Thread safety: control thread. Callback safety: no (may free).
   */
  [[nodiscard]] AudioStatus CloseVoice(uint32_t id) noexcept;

  /**
   * Copies up to `capacity` voice events (oldest first) into `out` and returns how many; frees the
   * rings of voices whose retirement the callback has acknowledged.
   * Thread safety: control thread (the event ring's consumer). Callback safety: no (may free).
   */
  size_t PollEvents(VoiceEvent* out, size_t capacity) noexcept;

  /** The backend actually opened ("Null", "ALSA", ...). Thread safety: control thread. Callback safety: yes. */
  const std::string& BackendName() const noexcept { return backendName_; }

  /** The playback device actually opened. Thread safety: control thread. Callback safety: yes. */
  const std::string& DeviceName() const noexcept { return deviceName_; }

  /** The configuration the device was opened with. Thread safety: any thread. Callback safety: yes. */
  const AudioDeviceConfig& Config() const noexcept { return config_; }

  /** Frames of one interrupt fade at this sample rate. Thread safety: any thread. Callback safety: yes. */
  uint32_t FadeFrames() const noexcept { return fadeFrames_; }

 private:
  struct Backend;  // the miniaudio context and device (kept out of this header)
  enum class Phase : uint8_t { kPlaying, kFading, kSilenced };

  AudioDevice(const AudioDeviceConfig& config, std::unique_ptr<PcmRingBuffer> ring,
              std::unique_ptr<PcmRingBuffer> capture, std::unique_ptr<float[]> mixScratch,
              std::unique_ptr<VoiceEventRing> events) noexcept;

  // The callback body: bounded work, no allocation, no locks.
  void Render(float* out, uint32_t frames) noexcept;
  // The legacy default ring's part of a period (writes every frame of out).
  void RenderDefaultRing(float* out, uint32_t frames, bool countUnderruns) noexcept;
  // Counts a voice's interrupt in the device's interrupt generation (once per voice).
  void CountVoiceInterrupt(MixerVoice& voice) noexcept;
  // The voice with `id` that is open (or, with includeClosing, closed but not yet freed).
  MixerVoice* FindVoice(uint32_t id, bool includeClosing = false) noexcept;
  const MixerVoice* FindVoice(uint32_t id, bool includeClosing = false) const noexcept;
  // Frees the rings of retired voices (and, on a stopped device, of retiring ones).
  void ReclaimVoices() noexcept;
  void FreeSlot(MixerVoice& voice) noexcept;

  static constexpr uint32_t kMixChunkFrames = 1024;
  friend struct AudioDeviceCallbackAccess;  // lets the miniaudio data callback reach Render()

  const AudioDeviceConfig config_;
  const uint32_t fadeFrames_;
  std::unique_ptr<PcmRingBuffer> ring_;
  std::unique_ptr<PcmRingBuffer> capture_;
  std::unique_ptr<Backend> backend_;
  bool closed_ = false;  // control thread only
  std::string backendName_;
  std::string deviceName_;

  // Voices (mixer_voice.h). voiceSlotsUsed_: slots [0, n) may be live (published with release).
  std::array<MixerVoice, kMaxVoices> voices_;
  std::atomic<uint32_t> voiceSlotsUsed_{0};
  uint32_t nextVoiceId_ = 1;  // control thread only
  std::unique_ptr<float[]> mixScratch_;  // kMixChunkFrames × channels, the renderer's
  std::unique_ptr<VoiceEventRing> events_;
  std::atomic<uint64_t> deviceFrames_{0};
  std::atomic<uint64_t> voiceInterruptsRequested_{0};  // control thread writes
  std::atomic<uint64_t> voiceInterruptsCompleted_{0};  // the renderer writes (the control thread when none runs)

  // Written by the callback, read anywhere (single writer: plain load + store, no RMW).
  std::atomic<uint64_t> framesPlayed_{0};
  std::atomic<uint64_t> underruns_{0};
  std::atomic<uint64_t> starvedFrames_{0};
  std::atomic<uint64_t> droppedFrames_{0};
  std::atomic<uint64_t> captureOverflowFrames_{0};
  std::atomic<uint64_t> callbacks_{0};
  std::atomic<int64_t> lastCallbackNanos_{-1};
  std::atomic<uint32_t> completedInterruptGeneration_{0};

  // Requests to the callback.
  std::atomic<uint32_t> interruptGeneration_{0};
  std::atomic<uint32_t> resumeGeneration_{0};
  std::atomic<uint64_t> resumeBoundaryFrames_{0};
  std::atomic<bool> started_{false};

  // Owned by whoever renders (the callback, or the control thread while stopped).
  Phase phase_ = Phase::kPlaying;
  uint32_t seenInterruptGeneration_ = 0;
  uint32_t fadeFramesDone_ = 0;
};

}  // namespace vs
