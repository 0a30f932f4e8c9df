// The registrar core's journal: a ring of entries indexed by seq, each published under a per-slot
// seqlock, so readers on other threads see a gap-free sequence and helpers can apply a claimed seq's
// effects from its entry. Plain C++17, no napi.h.
//
// Why the protocol is correct under the C++ memory model (not only on x86)
// -------------------------------------------------------------------------
// Slot `seq & mask` holds one seq at a time; its `tag` goes 0 -> seq -> kWriting -> seq + capacity
// -> kWriting -> ... and each value is stored by the one writer of that slot. Every field is a
// std::atomic (so a read racing with a rewrite is not a data race), and the orders are those of
// the classic seqlock (Boehm, "Can seqlocks get along with programming language memory models?"):
//   writer: tag = kWriting (relaxed); release fence; fields (relaxed); tag = seq (release)
//   reader: tag (acquire) == seq; fields (relaxed); acquire fence; tag (relaxed) == seq, else
//           the copy is discarded as overwritten
// - A reader that sees tag == seq synchronizes with the final release store, so every field load
//   returns seq's value or a later writer's, never the previous occupant's.
// - If any field load returns a later writer's value, the writer's release fence synchronizes with
//   the reader's acquire fence, so the writer's `tag = kWriting` happens before the re-check, and
//   the re-check (coherence) reads kWriting or a newer tag, never seq: new fields under an old tag
//   are never accepted. Without the two fences a weakly ordered CPU may make the field stores
//   visible before `tag = kWriting`, or perform the re-check before the copy.
// ThreadSanitizer does not model fences (GCC's -Wtsan says so; silenced below), so under TSan the
// fields are plain relaxed atomics and only the tag's release/acquire pair orders anything; that
// is the edge native/test/test_registrar_journal.cc checks with non-atomic data published through
// the journal, while it hammers the ring with several writers and readers and rejects any torn
// entry. On x86 both fences compile to nothing (compiler barriers); on ARMv8 to one dmb each.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "registrar_core.h"

// GCC's -Wtsan flags every fence under -fsanitize=thread; these two are deliberate (see above).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif

namespace vs::registrar {

/** The state changes a decision makes; applied by CAS from the old to the new value. */
struct Effects {
  int32_t stream = kNoId;  // stream whose words change, or kNoId
  uint64_t oldWord = 0, newWord = 0;
  uint64_t oldAux = 0, newAux = 0;
  uint64_t newMeta = 0;  // written once (CAS 0 -> newMeta) when the stream is created; 0: none
  int32_t overrideSpace = 0;
  int32_t overrideScopeId = kNoId;  // override slot that changes, or kNoId
  uint64_t oldOverride = 0, newOverride = 0;
  bool halt = false;
  /** With `halt`: the cause (HaltCause). */
  int32_t haltCause = -1;
  /** The writer's close fence (EntryKind::kWriterClosed). */
  bool closeWriter = false;
  /** Facade state that changes: kNone, the grants word of stream `facadeSlot`, or the values word
   *  of override slot (`facadeSpace`, `facadeSlot`); CAS from oldFacade to newFacade. */
  int32_t facadeKind = kFacadeNone;
  int32_t facadeSpace = 0;
  int32_t facadeSlot = kNoId;
  uint64_t oldFacade = 0, newFacade = 0;

  static constexpr int32_t kFacadeNone = 0, kFacadeGrants = 1, kFacadeValues = 2;
};

/** Result of reading one journal slot. */
enum class SlotRead {
  kOk,          // the entry of exactly that seq, copied whole
  kNotYet,      // seq is not published yet (or its slot is being rewritten right now)
  kOverwritten  // the slot holds a later seq, or was rewritten while it was copied
};

/**
 * Fixed-capacity ring of journal entries. Slot `seq & mask` holds seq; its tag is 0 before the
 * first publication, kWriting while its one writer (the claimer of seq) copies, then seq.
 * Thread safety: Publish(seq) by one thread per seq, and only after Publish(seq - Capacity())
 * has returned (happens-before; the core's sequencer guarantees it: seq is claimed only once
 * seq - 1 is applied); Read from any thread, concurrently with Publish (a read that overlaps a
 * rewrite of its slot is detected and reported as kOverwritten or kNotYet, never torn).
 * Callback safety: Publish, Read and Capacity are lock-free, allocate nothing and never block;
 * the constructor allocates.
 */
class Journal {
 public:
  /** A ring of at least `capacity` entries (a power of two, at least 1024), all unpublished.
   *  Thread safety: not shared yet. Callback safety: no (allocates). */
  explicit Journal(uint32_t capacity) {
    uint32_t size = 1024;
    while (size < capacity && size < (1u << 30)) size <<= 1;
    mask_ = size - 1;
    slots_ = std::make_unique<Slot[]>(size);
    Clear();
  }

  /** Entries kept. Thread safety: any thread. Callback safety: yes. */
  uint32_t Capacity() const noexcept { return mask_ + 1; }

  /** Forgets every entry. Thread safety: quiescent journal only (no concurrent Publish or Read:
   *  a seq published again after Clear would be indistinguishable from its old entry to a Read
   *  that overlapped). Callback safety: yes (no allocation, no lock), but O(capacity). */
  void Clear() noexcept {
    for (uint32_t index = 0; index <= mask_; ++index) {
      slots_[index].tag.store(0, std::memory_order_release);
    }
  }

  /** Writes seq's entry and effects, then publishes it (release). Thread safety: see the class
   *  (one writer per seq, after seq - Capacity() was published). Callback safety: yes (lock-free,
   *  no allocation: 28 atomic stores and a release fence). */
  void Publish(uint64_t seq, const JournalEntry& entry, const Effects& effects) noexcept {
    Slot& slot = slots_[seq & mask_];
    slot.tag.store(kWriting, std::memory_order_relaxed);
    // Orders `tag = kWriting` before every field store below, for a reader that sees one of them
    // and then runs its acquire fence (see the header comment).
    std::atomic_thread_fence(std::memory_order_release);
    const Decision& d = entry.decision;
    const uint64_t flags =
        (d.allowed ? 1u : 0u) | (d.halted ? 2u : 0u) | (d.accessibility ? 4u : 0u) |
        (d.preemption ? 8u : 0u) | (static_cast<uint64_t>(entry.kind & 3) << 4) | (static_cast<uint64_t>((entry.kind >> 2) & 1) << 7) |
        (effects.halt ? 64u : 0u) | (static_cast<uint64_t>(d.violations & 0x1FF) << 8) |
        (static_cast<uint64_t>(d.reason + 1) << 20) |
        (static_cast<uint64_t>(d.stateBefore + 1) << 24) |
        (static_cast<uint64_t>(d.stateAfter + 1) << 28) |
        (static_cast<uint64_t>(effects.overrideSpace & 1) << 41);
    Store(slot, 0, flags);
    Store(slot, 1, Pair(d.stream, entry.target));
    Store(slot, 2, Pair(entry.actor, d.ownerBefore));
    Store(slot, 3, Pair(d.ownerAfter, effects.stream));
    Store(slot, 4, d.version);
    Store(slot, 5, d.parentSeq);
    Store(slot, 6, entry.monotonicNs);
    Store(slot, 7, effects.oldWord);
    Store(slot, 8, effects.newWord);
    Store(slot, 9, effects.oldAux);
    Store(slot, 10, effects.newAux);
    Store(slot, 11, effects.newMeta);
    Store(slot, 12, static_cast<uint64_t>(static_cast<uint32_t>(effects.overrideScopeId)));
    Store(slot, 13, effects.oldOverride);
    Store(slot, 14, effects.newOverride);
    const Request& r = entry.request;
    Store(slot, 15, Pair(r.newOwner, r.preemptFor));
    Store(slot, 16, Pair(r.session, r.user));
    Store(slot, 17, Pair(r.overrideScopeId, r.priority));
    Store(slot, 18, Pair(r.overrideScope, r.pluginAllowed ? 1 : 0));
    Store(slot, 19, Pair(entry.actorKind, entry.action));
    Store(slot, 20, Pair(r.grants, r.values));
    const uint64_t misc = (r.postsBody ? 1u : 0u) | (static_cast<uint64_t>((r.haltCause + 1) & 0xF) << 1) |
                          (static_cast<uint64_t>((effects.haltCause + 1) & 0xF) << 5) |
                          (static_cast<uint64_t>(effects.facadeKind & 3) << 9) |
                          (static_cast<uint64_t>(effects.facadeSpace & 1) << 11) | (effects.closeWriter ? 1u << 12 : 0u);
    Store(slot, 21, (static_cast<uint64_t>(r.decider) << 32) | misc);
    Store(slot, 22, static_cast<uint64_t>(static_cast<uint32_t>(effects.facadeSlot)));
    Store(slot, 23, effects.oldFacade);
    Store(slot, 24, effects.newFacade);
    Store(slot, 25, Pair(r.actorUser, 0));
    slot.tag.store(seq, std::memory_order_release);
  }

  /** Copies seq's entry and effects (either may be null) when the result is kOk; on kNotYet or
   *  kOverwritten they are left untouched (a torn copy is never decoded). Thread safety: any thread,
   *  concurrently with Publish. Callback safety: yes (lock-free, no allocation, never retries). */
  SlotRead Read(uint64_t seq, JournalEntry* entry, Effects* effects) const noexcept {
    const Slot& slot = slots_[seq & mask_];
    const uint64_t before = slot.tag.load(std::memory_order_acquire);
    if (before == kWriting || before < seq) return SlotRead::kNotYet;
    if (before > seq) return SlotRead::kOverwritten;
    uint64_t f[kFields];
    for (int index = 0; index < kFields; ++index) f[index] = slot.fields[index].load(std::memory_order_relaxed);
    // A field value from a later writer makes that writer's `tag = kWriting` visible to the
    // re-check below, and the re-check cannot move above the copy.
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint64_t after = slot.tag.load(std::memory_order_relaxed);
    if (after != seq) return SlotRead::kOverwritten;
    const uint64_t flags = f[0];
    if (entry != nullptr) {
      Decision& d = entry->decision;
      d.allowed = flags & 1u;
      d.halted = flags & 2u;
      d.accessibility = flags & 4u;
      d.preemption = flags & 8u;
      entry->kind = static_cast<int32_t>(((flags >> 4) & 3) | (((flags >> 7) & 1) << 2));
      d.violations = static_cast<uint32_t>((flags >> 8) & 0x1FF);
      d.reason = static_cast<int32_t>((flags >> 20) & 0xF) - 1;
      d.stateBefore = static_cast<int32_t>((flags >> 24) & 0xF) - 1;
      d.stateAfter = static_cast<int32_t>((flags >> 28) & 0xF) - 1;
      entry->actorKind = High(f[19]);
      entry->action = Low(f[19]);
      d.seq = seq;
      d.stream = High(f[1]);
      entry->target = Low(f[1]);
      entry->actor = High(f[2]);
      d.ownerBefore = Low(f[2]);
      d.ownerAfter = High(f[3]);
      d.version = f[4];
      d.parentSeq = f[5];
      entry->monotonicNs = f[6];
      Request& r = entry->request;
      r.actor = entry->actor;
      r.actorKind = entry->actorKind;
      r.action = entry->action;
      r.stream = entry->target;
      r.newOwner = High(f[15]);
      r.preemptFor = Low(f[15]);
      r.session = High(f[16]);
      r.user = Low(f[16]);
      r.overrideScopeId = High(f[17]);
      r.priority = Low(f[17]);
      r.overrideScope = High(f[18]);
      r.pluginAllowed = Low(f[18]) != 0;
      r.grants = High(f[20]);
      r.values = Low(f[20]);
      r.decider = static_cast<uint32_t>(f[21] >> 32);
      r.postsBody = (f[21] & 1u) != 0;
      r.haltCause = static_cast<int32_t>((f[21] >> 1) & 0xF) - 1;
      r.actorUser = High(f[25]);
    }
    if (effects != nullptr) {
      effects->halt = flags & 64u;
      effects->overrideSpace = static_cast<int32_t>((flags >> 41) & 1);
      effects->stream = Low(f[3]);
      effects->oldWord = f[7];
      effects->newWord = f[8];
      effects->oldAux = f[9];
      effects->newAux = f[10];
      effects->newMeta = f[11];
      effects->overrideScopeId = static_cast<int32_t>(static_cast<uint32_t>(f[12]));
      effects->oldOverride = f[13];
      effects->newOverride = f[14];
      effects->haltCause = static_cast<int32_t>((f[21] >> 5) & 0xF) - 1;
      effects->facadeKind = static_cast<int32_t>((f[21] >> 9) & 3);
      effects->facadeSpace = static_cast<int32_t>((f[21] >> 11) & 1);
      effects->closeWriter = ((f[21] >> 12) & 1) != 0;
      effects->facadeSlot = static_cast<int32_t>(static_cast<uint32_t>(f[22]));
      effects->oldFacade = f[23];
      effects->newFacade = f[24];
    }
    return SlotRead::kOk;
  }

 private:
  static constexpr uint64_t kWriting = ~uint64_t{0};
  static constexpr int kFields = 26;
  struct Slot {
    std::atomic<uint64_t> tag{0};
    std::atomic<uint64_t> fields[kFields];  // zeroed by make_unique's value-initialisation
  };
  static void Store(Slot& slot, int index, uint64_t value) noexcept {
    slot.fields[index].store(value, std::memory_order_relaxed);
  }
  static uint64_t Pair(int32_t high, int32_t low) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(high)) << 32) | static_cast<uint32_t>(low);
  }
  static int32_t High(uint64_t value) noexcept { return static_cast<int32_t>(static_cast<uint32_t>(value >> 32)); }
  static int32_t Low(uint64_t value) noexcept { return static_cast<int32_t>(static_cast<uint32_t>(value)); }

  uint32_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace vs::registrar

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif
