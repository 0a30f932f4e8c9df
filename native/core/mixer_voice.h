// One voice of the device mixer: a stream's own SPSC PCM ring, gain ramp, interrupt fade and
// counters, in a fixed slot of the device's voice table (AudioDevice::kMaxVoices).
//
// Ownership of a slot moves through `lifecycle` (acquire/release):
//   kFree     the control thread owns every field; it allocates the ring and resets the rest,
//   kLive     published (release): the renderer (the audio callback, or the control thread while
//             the device is stopped) mixes it and owns the renderer fields,
//   kRetiring the control thread asks the renderer to let go (the renderer fades the voice out
//             first if it was playing),
//   kRetired  the renderer has let go for good (release): the control thread may free the ring
//             and mark the slot kFree again.
// So a ring is freed only after the renderer has acknowledged it will never touch it again.
// Requests (interrupt, end, gain) and counters are single-writer atomics: no lock, no RMW.
// A voice may also watch a registrar stream (stream_watch.h, ArmWatch): from then on the renderer
// fades it out, exactly as a requested interrupt does, in the first period in which the stream no
// longer plays, whoever decided that and on whichever thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "pcm_ring_buffer.h"
#include "stream_watch.h"
#include "voice_event_ring.h"

namespace vs {

// The callback's atomics must never fall back to a lock (libatomic's address-hashed mutexes) on a
// target without native atomics of that width: refuse to build there instead.
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the audio callback needs lock-free 64-bit atomics");
static_assert(std::atomic<int64_t>::is_always_lock_free, "the audio callback needs lock-free 64-bit atomics");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the audio callback needs lock-free 32-bit atomics");
static_assert(std::atomic<bool>::is_always_lock_free, "the audio callback needs lock-free atomic flags");

/** Who may touch a voice slot (see the file comment). */
enum class VoiceLifecycle : uint32_t { kFree = 0, kLive = 1, kRetiring = 2, kRetired = 3 };

/** Where a voice is in its playback. The numbers cross to JS: keep them stable. */
enum class VoicePhase : uint32_t {
  kPending = 0,      // nothing mixed yet
  kPlaying = 1,      // frames have been mixed
  kFading = 2,       // interrupted: fading out to zero
  kInterrupted = 3,  // fade complete: silent for good, what it holds is dropped
  kDrained = 4,      // ended and everything written was mixed
};

/** A gain request as one 64-bit word: the target gain's float bits and the ramp length in frames. */
inline uint64_t PackGainRequest(float gain, uint32_t rampFrames) noexcept {
  uint32_t bits = 0;
  std::memcpy(&bits, &gain, sizeof bits);
  return (uint64_t{bits} << 32) | rampFrames;
}

struct MixerVoice {
  /** See the file comment. Written by the control thread, except kRetiring → kRetired. */
  std::atomic<uint32_t> lifecycle{static_cast<uint32_t>(VoiceLifecycle::kFree)};
  /** Set while kFree, constant while published. */
  uint32_t id = 0;
  std::unique_ptr<PcmRingBuffer> ring;
  /** Control thread only: CloseVoice() was called (the id is no longer found). */
  bool closing = false;
  /** Control thread only: this voice's interrupt was counted in the device's interrupt generation. */
  bool interruptCounted = false;

  // Requests, control thread → renderer.
  std::atomic<bool> interruptRequested{false};
  std::atomic<bool> ended{false};
  std::atomic<uint64_t> gainRequest{0};

  // Counters, written by the renderer only (load + store), read anywhere.
  std::atomic<uint64_t> framesPlayed{0};
  std::atomic<uint64_t> underruns{0};
  std::atomic<uint64_t> droppedFrames{0};
  std::atomic<uint32_t> phase{static_cast<uint32_t>(VoicePhase::kPending)};
  /** The renderer saw the interrupt request and the voice is silent (counted once in the device's). */
  std::atomic<bool> interruptCompleted{false};

  // The watch (ArmWatch): `watch` and `watchOwner` are written once, before `watchArmed` (release);
  // the renderer reads `watch` only after loading `watchArmed` (acquire). `watchOwner` keeps the
  // watched core alive and is touched by the control thread only (released in Reset / FreeSlot,
  // after the renderer let go), so the callback never drops the last reference.
  std::atomic<bool> watchArmed{false};
  StreamWatchTarget watch;
  std::shared_ptr<const void> watchOwner;

  // Renderer-owned state (reset by the control thread while the slot is kFree).
  uint64_t seenGainRequest = 0;
  float gain = 1.0f;
  float gainTarget = 1.0f;
  float gainStep = 0.0f;
  uint32_t gainRampFramesLeft = 0;
  uint32_t fadeFramesDone = 0;
  bool interruptSeen = false;
  /** The watch found the stream no longer playing: the voice fades (and stays silent) for good. */
  bool watchCut = false;

  /**
   * Prepares a free slot for a new voice (the slot must be kFree; publish with lifecycle after).
   * Thread safety: control thread. Callback safety: no (takes ownership of an allocated ring).
   */
  void Reset(uint32_t voiceId, std::unique_ptr<PcmRingBuffer> voiceRing, float initialGain) noexcept;

  /**
   * Makes the renderer follow a registrar stream (stream_watch.h): `owner` keeps what `target`
   * points into alive. Once per voice: false when already armed. The voice may be live.
   * Thread safety: control thread. Callback safety: no (copies a shared reference).
   */
  bool ArmWatch(const StreamWatchTarget& target, std::shared_ptr<const void> owner) noexcept;
  /** Drops the watch and its reference (slot kFree or kRetired only). Control thread. */
  void DropWatch() noexcept;
};

/** What one period of mixing needs: the output, a scratch buffer, and where to report events. */
struct MixPeriod {
  float* out;               // interleaved output; voices are added to what it holds
  uint32_t frames;          // frames in this period
  uint32_t channels;
  float* scratch;           // scratchFrames * channels floats, owned by the renderer
  uint32_t scratchFrames;
  uint64_t deviceFrame;     // device output frame of out[0]
  uint32_t fadeFrames;      // length of an interrupt fade
  VoiceEventRing* events;
  // Device-wide counters the voices add to (single writer: the renderer).
  std::atomic<uint64_t>* interruptsCompleted;
  std::atomic<uint64_t>* underruns;
  std::atomic<uint64_t>* starvedFrames;
};

/**
 * Mixes one period of `voice` into `period.out` (sum × gain, with its gain ramp and interrupt fade),
 * handles its requests, reports its events, and acknowledges a retirement. Returns the frames of
 * the voice mixed. Bounded work: O(frames × channels).
 * Thread safety: the renderer only. Callback safety: yes (no allocation, lock, log or syscall).
 */
uint64_t MixVoice(MixerVoice& voice, const MixPeriod& period) noexcept;

}  // namespace vs
