// The registrar core's journal: a ring of entries indexed by seq, each published with a seqlock
// tag, so readers on other threads see a gap-free sequence and helpers can apply a claimed seq's
// effects from its entry. Plain C++17, no napi.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "registrar_core.h"

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
};

/** Result of reading one journal slot. */
enum class SlotRead { kOk, kNotYet, kOverwritten };

/**
 * Fixed-capacity ring of journal entries. Slot `seq & mask` holds seq; its tag is 0 before the
 * first publication, kWriting while its one writer (the claimer of seq) copies, then seq.
 * Thread safety: Publish by the claimer of `seq` only; Read from any thread (seqlock: a read that
 * overlaps a rewrite is detected and reported as kOverwritten or kNotYet).
 */
class Journal {
 public:
  explicit Journal(uint32_t capacity) {
    uint32_t size = 1024;
    while (size < capacity && size < (1u << 30)) size <<= 1;
    mask_ = size - 1;
    slots_ = std::make_unique<Slot[]>(size);
    Clear();
  }

  uint32_t Capacity() const noexcept { return mask_ + 1; }

  /** Forgets every entry (quiescent core only). */
  void Clear() noexcept {
    for (uint32_t index = 0; index <= mask_; ++index) {
      slots_[index].tag.store(0, std::memory_order_release);
    }
  }

  /** Writes seq's entry and effects, then publishes it (release). */
  void Publish(uint64_t seq, const JournalEntry& entry, const Effects& effects) noexcept {
    Slot& slot = slots_[seq & mask_];
    // The acquire half of this exchange keeps the field stores below from moving above it.
    slot.tag.exchange(kWriting, std::memory_order_acquire);
    const Decision& d = entry.decision;
    const uint64_t flags =
        (d.allowed ? 1u : 0u) | (d.halted ? 2u : 0u) | (d.accessibility ? 4u : 0u) |
        (d.preemption ? 8u : 0u) | (static_cast<uint64_t>(entry.kind & 3) << 4) |
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
    slot.tag.store(seq, std::memory_order_release);
  }

  /** Reads seq's entry and effects (either may be null). */
  SlotRead Read(uint64_t seq, JournalEntry* entry, Effects* effects) const noexcept {
    const Slot& slot = slots_[seq & mask_];
    const uint64_t before = slot.tag.load(std::memory_order_acquire);
    if (before == kWriting || before < seq) return SlotRead::kNotYet;
    if (before > seq) return SlotRead::kOverwritten;
    uint64_t f[kFields];
    // Acquire loads keep the tag re-check below from moving above them (no fence: TSan models
    // atomics but not fences).
    for (int index = 0; index < kFields; ++index) f[index] = slot.fields[index].load(std::memory_order_acquire);
    const uint64_t after = slot.tag.load(std::memory_order_relaxed);
    if (after != seq) return SlotRead::kOverwritten;
    const uint64_t flags = f[0];
    if (entry != nullptr) {
      Decision& d = entry->decision;
      d.allowed = flags & 1u;
      d.halted = flags & 2u;
      d.accessibility = flags & 4u;
      d.preemption = flags & 8u;
      entry->kind = static_cast<int32_t>((flags >> 4) & 3);
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
    }
    return SlotRead::kOk;
  }

 private:
  static constexpr uint64_t kWriting = ~uint64_t{0};
  static constexpr int kFields = 20;
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
