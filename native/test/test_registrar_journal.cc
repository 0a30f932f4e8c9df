// Hammers the journal's per-slot seqlock (native/core/registrar_journal.h): writer threads publish
// seqs into a small ring while reader threads copy the slots being rewritten right now. Every field
// of seq's entry is derived from seq, so any accepted read that mixes two occupants of a slot (a
// torn entry: new fields under an old tag, or the reverse) is caught. Each writer also stores a
// plain, non-atomic word per seq before publishing it, and readers read that word after an
// accepted Read: only the tag's release/acquire pair orders the two, so under ThreadSanitizer a
// weakened publication (a relaxed final tag store, a relaxed first tag load) is reported as a data
// race. Runs under ThreadSanitizer (scripts/sanitize.mjs thread); honours VS_TEST_SCALE.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "registrar_core.h"
#include "registrar_journal.h"

using namespace vs::registrar;

namespace {

constexpr int kWriters = 3;
constexpr int kReaders = 3;
constexpr uint32_t kCapacity = 1024;  // the smallest ring: slots are rewritten as often as possible

/** A well-mixed 64-bit value for field `field` of seq (splitmix64). */
uint64_t Mix(uint64_t seq, uint64_t field) {
  uint64_t z = seq * 0x9E3779B97F4A7C15ull + field * 0xBF58476D1CE4E5B9ull + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
int32_t Mix32(uint64_t seq, uint64_t field) { return static_cast<int32_t>(static_cast<uint32_t>(Mix(seq, field))); }

/** Seq's entry: every field a function of seq, within the ranges the journal encodes. */
JournalEntry EntryFor(uint64_t seq) {
  JournalEntry entry;
  Decision& d = entry.decision;
  d.allowed = Mix(seq, 0) & 1;
  d.halted = Mix(seq, 0) & 2;
  d.accessibility = Mix(seq, 0) & 4;
  d.preemption = Mix(seq, 0) & 8;
  d.violations = static_cast<uint32_t>(Mix(seq, 1) & 0x1FF);
  d.reason = static_cast<int32_t>(Mix(seq, 2) % 15) - 1;
  d.stateBefore = static_cast<int32_t>(Mix(seq, 3) % 15) - 1;
  d.stateAfter = static_cast<int32_t>(Mix(seq, 4) % 15) - 1;
  d.seq = seq;
  d.stream = Mix32(seq, 5);
  d.version = Mix(seq, 6);
  d.parentSeq = Mix(seq, 7);
  d.ownerBefore = Mix32(seq, 8);
  d.ownerAfter = Mix32(seq, 9);
  entry.kind = static_cast<int32_t>(Mix(seq, 10) % 5);
  entry.actor = Mix32(seq, 11);
  entry.actorKind = Mix32(seq, 12);
  entry.action = Mix32(seq, 13);
  entry.target = Mix32(seq, 14);
  entry.monotonicNs = Mix(seq, 15);
  Request& r = entry.request;
  r.actor = entry.actor;
  r.actorKind = entry.actorKind;
  r.action = entry.action;
  r.stream = entry.target;
  r.newOwner = Mix32(seq, 16);
  r.preemptFor = Mix32(seq, 17);
  r.priority = Mix32(seq, 18);
  r.session = Mix32(seq, 19);
  r.user = Mix32(seq, 20);
  r.overrideScope = Mix32(seq, 21);
  r.overrideScopeId = Mix32(seq, 22);
  r.pluginAllowed = Mix(seq, 23) & 1;
  r.actorUser = Mix32(seq, 24);
  r.grants = Mix32(seq, 24);
  r.values = Mix32(seq, 25);
  r.decider = static_cast<uint32_t>(Mix(seq, 26));
  r.postsBody = Mix(seq, 27) & 1;
  r.haltCause = static_cast<int32_t>(Mix(seq, 28) % 5) - 1;
  return entry;
}

Effects EffectsFor(uint64_t seq) {
  Effects effects;
  effects.stream = Mix32(seq, 30);
  effects.oldWord = Mix(seq, 31);
  effects.newWord = Mix(seq, 32);
  effects.oldAux = Mix(seq, 33);
  effects.newAux = Mix(seq, 34);
  effects.newMeta = Mix(seq, 35);
  effects.overrideSpace = static_cast<int32_t>(Mix(seq, 36) & 1);
  effects.overrideScopeId = Mix32(seq, 37);
  effects.oldOverride = Mix(seq, 38);
  effects.newOverride = Mix(seq, 39);
  effects.halt = Mix(seq, 40) & 1;
  effects.haltCause = static_cast<int32_t>(Mix(seq, 41) % 5) - 1;
  effects.closeWriter = Mix(seq, 42) & 1;
  effects.facadeKind = static_cast<int32_t>(Mix(seq, 43) % 3);
  effects.facadeSpace = static_cast<int32_t>(Mix(seq, 44) & 1);
  effects.facadeSlot = Mix32(seq, 45);
  effects.oldFacade = Mix(seq, 46);
  effects.newFacade = Mix(seq, 47);
  return effects;
}

/** Whether a read copy is exactly seq's entry and effects (false: torn or stale). */
bool IsEntryOf(uint64_t seq, const JournalEntry& got, const Effects& effects) {
  const JournalEntry want = EntryFor(seq);
  const Decision& a = got.decision;
  const Decision& b = want.decision;
  const bool decision =
      a.allowed == b.allowed && a.violations == b.violations && a.reason == b.reason && a.halted == b.halted &&
      a.seq == b.seq && a.stream == b.stream && a.stateBefore == b.stateBefore && a.stateAfter == b.stateAfter &&
      a.version == b.version && a.parentSeq == b.parentSeq && a.ownerBefore == b.ownerBefore &&
      a.ownerAfter == b.ownerAfter && a.accessibility == b.accessibility && a.preemption == b.preemption;
  const Request& p = got.request;
  const Request& q = want.request;
  const bool request = p.actor == q.actor && p.actorKind == q.actorKind && p.action == q.action &&
                       p.stream == q.stream && p.newOwner == q.newOwner && p.preemptFor == q.preemptFor &&
                       p.priority == q.priority && p.session == q.session && p.user == q.user &&
                       p.overrideScope == q.overrideScope && p.overrideScopeId == q.overrideScopeId &&
                       p.pluginAllowed == q.pluginAllowed && p.actorUser == q.actorUser && p.grants == q.grants && p.values == q.values &&
                       p.decider == q.decider && p.postsBody == q.postsBody && p.haltCause == q.haltCause;
  const bool entry = got.kind == want.kind && got.actor == want.actor && got.actorKind == want.actorKind &&
                     got.action == want.action && got.target == want.target && got.monotonicNs == want.monotonicNs;
  const Effects e = EffectsFor(seq);
  const bool effect = effects.stream == e.stream && effects.oldWord == e.oldWord && effects.newWord == e.newWord &&
                      effects.oldAux == e.oldAux && effects.newAux == e.newAux && effects.newMeta == e.newMeta &&
                      effects.overrideSpace == e.overrideSpace && effects.overrideScopeId == e.overrideScopeId &&
                      effects.oldOverride == e.oldOverride && effects.newOverride == e.newOverride &&
                      effects.halt == e.halt && effects.haltCause == e.haltCause && effects.closeWriter == e.closeWriter &&
                      effects.facadeKind == e.facadeKind && effects.facadeSpace == e.facadeSpace &&
                      effects.facadeSlot == e.facadeSlot && effects.oldFacade == e.oldFacade && effects.newFacade == e.newFacade;
  return decision && request && entry && effect;
}

struct ReaderCounts {
  uint64_t ok = 0;
  uint64_t notYet = 0;
  uint64_t overwritten = 0;
  uint64_t torn = 0;             // accepted (kOk) but not seq's entry: the failure this test exists for
  uint64_t payloadMismatch = 0;  // accepted, but the word published with it was not visible
};

/** Round trip on a quiet ring: encodings, and the three answers of Read. */
void TestSingleThreaded() {
  Journal journal(kCapacity);
  VS_CHECK_EQ(journal.Capacity(), kCapacity);
  JournalEntry entry;
  Effects effects;
  VS_CHECK(journal.Read(1, &entry, &effects) == SlotRead::kNotYet);
  int wrong = 0;
  for (uint64_t seq = 1; seq <= 3 * kCapacity; ++seq) {
    journal.Publish(seq, EntryFor(seq), EffectsFor(seq));
    wrong += journal.Read(seq, &entry, &effects) == SlotRead::kOk && IsEntryOf(seq, entry, effects) ? 0 : 1;
  }
  VS_CHECK_EQ(wrong, 0);
  VS_CHECK(journal.Read(3 * kCapacity + 1, &entry, &effects) == SlotRead::kNotYet);
  VS_CHECK(journal.Read(2 * kCapacity, &entry, &effects) == SlotRead::kOverwritten);
  VS_CHECK(journal.Read(2 * kCapacity + 1, &entry, &effects) == SlotRead::kOk);
  VS_CHECK(IsEntryOf(2 * kCapacity + 1, entry, effects));
  // The comparison can fail: a neighbouring seq's entry does not pass for this one.
  VS_CHECK(!IsEntryOf(2 * kCapacity + 2, entry, effects));
  // A read that is not kOk leaves its outputs untouched.
  JournalEntry untouched;
  untouched.monotonicNs = 12345;
  VS_CHECK(journal.Read(1, &untouched, nullptr) == SlotRead::kOverwritten);
  VS_CHECK_EQ(untouched.monotonicNs, 12345u);
  journal.Clear();
  VS_CHECK(journal.Read(3 * kCapacity, &entry, nullptr) == SlotRead::kNotYet);
}

/** Writers publish seqs 1..total into a 1024-slot ring while readers copy the slots under rewrite. */
void TestConcurrentWritersAndReaders() {
  const uint64_t total =
      static_cast<uint64_t>(std::max(20000.0, 300000.0 * vs::test::Scale()));
  Journal journal(kCapacity);
  const uint64_t capacity = journal.Capacity();
  // One plain word per seq, written before Publish(seq) and read after an accepted Read(seq).
  std::vector<uint64_t> payload(total + 1, 0);
  std::atomic<uint64_t> claimed{0};  // seqs handed to writers (relaxed: must not order anything)
  std::atomic<int> writersLeft{kWriters};
  std::atomic<int> arrived{0};  // start gate, so readers and writers overlap from the first seq
  const auto waitForAll = [&] {
    arrived.fetch_add(1);
    while (arrived.load() < kWriters + kReaders) std::this_thread::yield();
  };
  uint64_t slotWaits[kWriters] = {};

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      waitForAll();
      for (;;) {
        const uint64_t seq = claimed.fetch_add(1, std::memory_order_relaxed) + 1;
        if (seq > total) break;
        // The journal's precondition (the core's sequencer gives it): seq's slot is rewritten only
        // after the previous occupant's Publish returned.
        if (seq > capacity) {
          while (journal.Read(seq - capacity, nullptr, nullptr) == SlotRead::kNotYet) {
            ++slotWaits[w];
            std::this_thread::yield();
          }
        }
        payload[seq] = Mix(seq, 99);
        journal.Publish(seq, EntryFor(seq), EffectsFor(seq));
      }
      writersLeft.fetch_sub(1, std::memory_order_relaxed);
    });
  }

  std::vector<ReaderCounts> counts(kReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      ReaderCounts& count = counts[static_cast<size_t>(r)];
      std::mt19937_64 random(static_cast<uint64_t>(77 + r));
      JournalEntry entry;
      Effects effects;
      const auto accept = [&](uint64_t seq) {
        ++count.ok;
        if (!IsEntryOf(seq, entry, effects)) ++count.torn;
        if (payload[seq] != Mix(seq, 99)) ++count.payloadMismatch;
      };
      uint64_t next = 1;  // reader 0 follows the sequence in order, like ReadJournal
      waitForAll();
      // Until the writers are done, and at least 100 accepted reads each (then from a quiet ring).
      while (writersLeft.load(std::memory_order_relaxed) > 0 || count.ok < 100) {
        if (r == 0) {
          if (next > total) break;
          const SlotRead read = journal.Read(next, &entry, &effects);
          if (read == SlotRead::kOk) {
            accept(next);
            ++next;
          } else if (read == SlotRead::kNotYet) {
            ++count.notYet;
            std::this_thread::yield();
          } else {
            ++count.overwritten;
            // Lapped: go on at the oldest seq the ring may still hold, never going backwards.
            const uint64_t last = claimed.load(std::memory_order_relaxed);
            next = std::max(next + 1, last > capacity ? last - capacity + 1 : 1);
          }
          continue;
        }
        const uint64_t head = std::min(claimed.load(std::memory_order_relaxed), total);
        // Other readers: half on the seqs whose slots are being rewritten now (by the writers of
        // the last few claimed seqs), half on those seqs themselves (being published now).
        const uint64_t offset = random() % (2 * kWriters);
        uint64_t seq;
        if (random() & 1) {
          if (head <= capacity + offset) continue;
          seq = head - capacity - offset;
        } else {
          if (head <= offset) continue;
          seq = head - offset;
        }
        const SlotRead read = journal.Read(seq, &entry, &effects);
        if (read == SlotRead::kOk) {
          accept(seq);
        } else if (read == SlotRead::kNotYet) {
          ++count.notYet;
        } else {
          ++count.overwritten;
        }
      }
    });
  }
  for (auto& thread : writers) thread.join();
  for (auto& thread : readers) thread.join();

  ReaderCounts sum;
  for (const ReaderCounts& count : counts) {
    sum.ok += count.ok;
    sum.notYet += count.notYet;
    sum.overwritten += count.overwritten;
    sum.torn += count.torn;
    sum.payloadMismatch += count.payloadMismatch;
  }
  uint64_t waits = 0;
  for (uint64_t value : slotWaits) waits += value;
  std::fprintf(stderr,
               "journal hammer: %llu seqs, %d writers (%llu slot waits), %d readers: %llu accepted, "
               "%llu not yet, %llu overwritten, %llu torn, %llu payload mismatches\n",
               static_cast<unsigned long long>(total), kWriters, static_cast<unsigned long long>(waits),
               kReaders, static_cast<unsigned long long>(sum.ok), static_cast<unsigned long long>(sum.notYet),
               static_cast<unsigned long long>(sum.overwritten), static_cast<unsigned long long>(sum.torn),
               static_cast<unsigned long long>(sum.payloadMismatch));
  VS_CHECK_EQ(sum.torn, 0u);
  VS_CHECK_EQ(sum.payloadMismatch, 0u);
  VS_CHECK(sum.ok > 0);
  // The readers did reach slots under rewrite (else this test could not catch a torn entry).
  VS_CHECK(sum.overwritten > 0);

  // Quiet again: the last `capacity` seqs are whole, everything older reads as overwritten.
  JournalEntry entry;
  Effects effects;
  int wrong = 0;
  for (uint64_t seq = total - capacity + 1; seq <= total; ++seq) {
    wrong += journal.Read(seq, &entry, &effects) == SlotRead::kOk && IsEntryOf(seq, entry, effects) ? 0 : 1;
  }
  VS_CHECK_EQ(wrong, 0);
  VS_CHECK(journal.Read(total - capacity, &entry, &effects) == SlotRead::kOverwritten);
  VS_CHECK(journal.Read(total + 1, &entry, &effects) == SlotRead::kNotYet);
}

}  // namespace

int main() {
  TestSingleThreaded();
  TestConcurrentWritersAndReaders();
  return VS_TEST_RESULT("test_registrar_journal");
}
