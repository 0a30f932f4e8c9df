// The registrar core's body channel: for each seq another thread decided, the text of its
// attestation body (everything but prevHash and hash), handed from the deciding thread to the one
// log writer. A ring of slots indexed by seq, like the journal and of the same capacity. Plain
// C++17, no napi.h.
//
// Protocol (one poster and one taker per seq; no lock)
// ----------------------------------------------------
// Slot `seq & mask` carries a tag `seq << 2 | state`, state 1 posting, 2 posted, 3 abandoned; a
// tag below `seq << 2` is a previous occupant, i.e. "empty for seq".
//   poster: CAS tag empty -> seq|posting (acq_rel); copy the text; tag = seq|posted (release)
//   taker:  tag (acquire) == seq|posted: copy the text out
//           with `abandon` and an empty tag: CAS empty -> seq|abandoned (a late poster's CAS fails)
// A poster's CAS fails when the slot already names seq or a later one (posted, abandoned or
// reused), so a body is never written twice and never into a slot the writer gave up.
// Why the text (a plain std::string) is never read and written at once: the taker reads it only
// after the acquire load saw `posted` (the poster's release store happens before); the next
// poster into the slot holds seq + capacity, which the core lets anyone claim only after the
// writer noted (NoteWritten, a release store of `written_`, read with acquire in Run) that it
// drained seq, so the taker's read happens before that poster's write.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "registrar_core.h"

namespace vs::registrar {

/**
 * Fixed-capacity ring of attestation bodies, one per seq. Thread safety: Post(seq) by the
 * decider of seq, Take(seq) by the one log writer, concurrently; a slot is reused (seq +
 * Capacity()) only after the writer took or gave up seq (the core's backpressure rule).
 * Callback safety: no (Post and Take copy text and may allocate).
 */
class BodyChannel {
 public:
  /** `capacity` slots (a power of two: the journal's). Thread safety: not shared yet. */
  explicit BodyChannel(uint32_t capacity) : mask_(capacity - 1), slots_(std::make_unique<Slot[]>(capacity)) {}

  /** Posts seq's body; false when the slot names seq or a later one already (posted, or given up
   *  by the writer) or the copy could not allocate. Thread safety: seq's decider. */
  bool Post(uint64_t seq, const char* text, size_t length) noexcept {
    Slot& slot = slots_[seq & mask_];
    uint64_t tag = slot.tag.load(std::memory_order_acquire);
    do {
      if ((tag >> 2) >= seq) return false;
    } while (!slot.tag.compare_exchange_weak(tag, seq << 2 | kPosting, std::memory_order_acq_rel, std::memory_order_acquire));
    try {
      slot.text.assign(text, length);
    } catch (const std::bad_alloc&) {
      slot.text.clear();
      slot.tag.store(seq << 2 | kAbandoned, std::memory_order_release);  // the writer writes from the journal
      return false;
    }
    slot.tag.store(seq << 2 | kPosted, std::memory_order_release);
    return true;
  }

  /** Takes seq's body into `out` (kOk), or kNotYet; with `abandon`, a body not posted yet is given
   *  up (kAbandoned) unless its copy is under way (kNotYet: it completes in a moment). kAbandoned
   *  also when the poster gave up itself. Thread safety: the writer only. */
  BodyTake Take(uint64_t seq, std::string* out, bool abandon) noexcept {
    Slot& slot = slots_[seq & mask_];
    uint64_t tag = slot.tag.load(std::memory_order_acquire);
    for (;;) {
      if (tag == (seq << 2 | kPosted)) {
        try {
          out->assign(slot.text);
        } catch (const std::bad_alloc&) {
          return BodyTake::kAbandoned;  // written from the journal instead
        }
        return BodyTake::kOk;
      }
      if (tag == (seq << 2 | kPosting)) return BodyTake::kNotYet;
      if ((tag >> 2) >= seq) return BodyTake::kAbandoned;  // given up (by us before, or by its poster)
      if (!abandon) return BodyTake::kNotYet;
      if (slot.tag.compare_exchange_weak(tag, seq << 2 | kAbandoned, std::memory_order_acq_rel, std::memory_order_acquire)) {
        return BodyTake::kAbandoned;
      }
    }
  }

 private:
  static constexpr uint64_t kPosting = 1, kPosted = 2, kAbandoned = 3;
  struct Slot {
    std::atomic<uint64_t> tag{0};
    std::string text;
  };
  uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace vs::registrar
