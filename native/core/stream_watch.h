// A mixer voice's watch of one registrar stream (issue 7 point 1: an allowed interrupt, stop or fail
// silences the device within one period of the decision, whichever thread decided it).
//
// The registrar core (registrar_core.h) keeps each stream's lifecycle in one atomic word that every
// decider on every thread changes with a CAS. A voice that plays a stream watches that word: once
// per period the audio callback loads it (acquire) together with the core's halted flag, and when
// the stream no longer plays it starts the voice's interrupt fade on that same period, as a
// requested interrupt does. No JS, no lock, no allocation: two atomic loads and a compare.
//
// What "no longer plays" means (the rule, kept in one place: StreamStillPlays):
//   - the word's state field is not `playing` (interrupting, stopped, failed, or any other), or
//   - the word's exists bit is clear (the slot was compacted), or
//   - its version is below the one captured when the watch was armed (a freed and reused slot
//     holds a younger stream: versions count decisions from a stream's creation), or
//   - the core halted (every halt cause stops every stream).
// A change that keeps the stream playing (an ownership transfer, a commit, any version bump while
// `playing`) does not fade: only the state field, existence and the version floor are compared.
//
// Lifetime: the words live in the core's ChunkedTable, whose chunks never move or shrink while the
// core lives, and a voice that watches holds a shared reference to the core (taken and released on
// the control thread, never in the callback), so the addresses stay valid while the callback reads.
#pragma once

#include <atomic>
#include <cstdint>

namespace vs {

/** The stream word's layout (registrar_core.cc, MakeWord; static_asserts there keep them equal):
 *  exists(1) | state(3) | committed(1) | owner+1 (24) | version (35). */
namespace stream_word {
inline constexpr uint64_t kExistsBit = 1;
inline constexpr int kStateShift = 1;
inline constexpr uint64_t kStateMask = 7;
inline constexpr int kVersionShift = 29;
/** StreamState::kPlaying (STREAM_STATES order, frozen). */
inline constexpr uint64_t kPlaying = 3;
}  // namespace stream_word

/** What the callback reads to follow one stream: addresses inside a core kept alive elsewhere. */
struct StreamWatchTarget {
  /** The stream's state word (RegistrarCore::StreamSlot::word). */
  const std::atomic<uint64_t>* word = nullptr;
  /** The core's halted flag. */
  const std::atomic<bool>* halted = nullptr;
  /** The stream's version when the watch was armed: a lower one is another (reused) stream. */
  uint64_t version = 0;
};

/** Whether `word` says: the stream exists, is `playing`, at version `minVersion` or later. */
constexpr bool WordPlays(uint64_t word, uint64_t minVersion) noexcept {
  return (word & stream_word::kExistsBit) != 0 &&
         ((word >> stream_word::kStateShift) & stream_word::kStateMask) == stream_word::kPlaying &&
         (word >> stream_word::kVersionShift) >= minVersion;
}

/**
 * Whether the watched stream still plays (see the file comment). Thread safety: any thread.
 * Callback safety: yes (two acquire loads, no allocation, lock or syscall).
 */
inline bool StreamStillPlays(const StreamWatchTarget& target) noexcept {
  if (target.halted->load(std::memory_order_acquire)) return false;
  return WordPlays(target.word->load(std::memory_order_acquire), target.version);
}

}  // namespace vs
