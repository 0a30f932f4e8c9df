// The registrar's decision core (spec/registrar.md §2-§4): a stream table of atomic words, atomic
// override slots, one global sequence and a journal of decisions in sequence order. Plain C++17,
// no napi.h; the binding (native/binding/registrar_wrap.cc) only converts values.
//
// How decisions stay linearizable in `seq` order without a lock
// -------------------------------------------------------------
// Replay re-decides every request in seq order, so the order in which concurrent decisions take
// effect must be exactly their seq order. Two counters do it: `claimed_` (the last seq handed out)
// and `applied_` (the last seq whose effects are in the tables). A decider
//   1. loads claimed_ == applied_ == c (otherwise it first helps finish seq applied_+1),
//   2. reads what it needs (stream words, override slots, halted) and decides as seq c+1,
//   3. claims c+1 with one CAS on claimed_ (c -> c+1); if that fails someone else decided first,
//      so it retries from 1 on the new state (its reads may have been torn; they are discarded),
//   4. publishes its journal entry (decision + effects), then applies the effects: CAS of the
//      stream word (old -> new), of the stream's aux word, of the override slot, and advances
//      applied_ (c -> c+1) with a CAS.
// Any thread that meets a claimed-but-unapplied seq applies it from the journal entry itself
// (helping), so a decider preempted after step 4's publication stalls no one. Every effect word
// carries a monotonic field (stream version, last seq), so a late helper's CAS can never succeed
// twice (no ABA). Racing requests on one stream therefore have exactly one winner: the first claim.
// The one wait: between the claim CAS and the publication of its entry (a copy of 22 words) the
// seq's effects are not yet known, and other deciders spin, then yield, until they are. So the
// decision path takes no lock, but it is not wait-free: a decider descheduled inside that window
// delays the others by its time off the CPU (measured by bench/stress-registrar.ts: 8 threads on
// 2 cores still decide ~400k races/s).
//
// Session memberships (registrar_membership.h) are an insert-only lock-free set: Compute reads it
// (enable_override), HelpApply adds the one a creating decision implies (idempotent, so helping
// twice is harmless), DeclareMember adds the host's declarations outside the sequence, like
// RegisterActor. Bits are never removed, so a membership a decision saw holds for every later one.
//
// Locks: only interning (Interner's mutex: registerActor, internStream/internScope, key lookups,
// and a creating start/claim with no target, which interns the generated key "stream-<seq>" right
// after its claim, inside the publication window) and compaction (below).
//
// Compaction (src/registrar/compaction.ts states the rule; the reference core applies the same)
// ----------------------------------------------------------------------------------------------
// At every seq c that is a multiple of `compactionPeriod`, once c's effects are applied and before
// applied_ reaches c (so no decision for c+1 can be computed meanwhile), one thread (whoever
// applies c first: the others wait for it, the second wait of the sequencer) sweeps the stream
// table under the stream interner's lock: a stopped/failed stream whose last transition is at
// least `compactionRetain` seqs old is removed (its words zeroed), and an interned id with no
// stream that no request named for as long is freed. Removal is the rule (deterministic: a
// function of seqs and states, so replay and restore do the same); freeing is bookkeeping:
// a freed id keeps its key for reverse lookups and is handed out again only after one journal
// length of seqs (no journal entry can still name it). Every sweep that frees ids bumps the free
// epoch: callers that cache key -> id (src/registrar/native-core.ts) pass the epoch their cache
// is valid for, and a request whose epoch is not the current one is answered "stale" without
// consuming a seq (the caller re-interns and asks again). The check is inside Compute, so the
// claim CAS validates it like every other read. A request naming a freed id without an epoch
// (ids obtained elsewhere) is denied invalid_request, never applied to a slot that may be reused.
// Resetting a slot breaks the monotonicity that makes a late helper's CAS harmless (a creation
// expects word 0, and a removed slot is 0 again), so with compaction every helper counts itself
// into one of two generations while it applies a seq's effects, and the sweeper flips the
// generation and waits until the old one is empty before it resets anything. Helpers that enter
// afterwards see applied_ >= seq - 1 and only apply seqs decided on the swept state. Without
// compaction helpers count nothing and nothing changes.
// Each sweep records how many streams it removed in a small ring of (point, count) words, so the
// registrar can state the count in the attestation of the point's seq (its metadata.compaction)
// and a replay can check it; the ring spans two journal lengths of points, so whoever can still
// read a point's journal entry can read its count (SweptAt).
//
// One log writer, many deciders (src/registrar/log-writer.ts, attached-registrar.ts)
// -----------------------------------------------------------------------------------
// Registrars on several threads share one core and one attestation log, written by exactly one
// of them: the writer (ClaimWriter). Every other thread decides on the core and posts the text of
// its attestation into the body channel (registrar_bodies.h, PostBody) under the decision's seq;
// the writer drains journal and bodies in seq order and seals the chain. Two rules keep the
// writer from losing a seq, both checked in Run before the claim (as state of seq - 1):
// - backpressure: while a writer is live, a seq is claimed only when the writer has drained
//   (NoteWritten) every seq at least `Capacity() - kWriterHeadroom` older, so no journal slot or
//   body slot is reused before the writer read it; otherwise the request is refused
//   (Refusal::kBackpressure, nothing decided, no seq consumed) and the caller waits. Halts and the
//   writer's close fence may use the headroom (each happens at most once).
// - the close fence: CloseWriter claims one seq (EntryKind::kWriterClosed) whose effect marks the
//   writer gone; every later request is refused (Refusal::kWriterGone) before deciding.
// A halt of any cause (a bypass decision, or Halt(cause): a failed log write, a structural
// violation, a journal overrun) is state of the core, applied in seq order; HaltCause and
// HaltSeq say why and where.
//
// Facade state (plugin grants per stream, override values per override) is state of the core too:
// each is an id interned as text (InternScope spaces 2 and 3) held in an atomic word with the seq
// of its last change, changed by the allowed decision that carries it (Request::grants/values).
// A request computed from facade state (a plugin's mutate_graph, an update_override merging
// values) names the ids it read (expectedGrants/expectedValues); when they changed meanwhile it is
// refused (Refusal::kRetry) and the caller reads again, so grants and values are linearized with
// the decisions like everything else.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registrar_membership.h"
#include "registrar_tables.h"
#include "stream_watch.h"

namespace vs::registrar {

/** Actor kinds; order frozen (ACTOR_KINDS in src/registrar/core.ts). */
enum class ActorKind : int32_t { kUser = 0, kAgent, kPlugin, kSystem, kCount };

/** Stream states; order frozen (STREAM_STATES). */
enum class StreamState : int32_t {
  kIdle = 0, kCompiling, kSynthesizing, kPlaying, kInterrupting, kStopped, kFailed, kCount
};

/** Actions; order frozen (TRANSITION_ACTIONS). */
enum class Action : int32_t {
  kStart = 0, kCompile, kSynthesize, kPlay, kInterrupt, kStop, kFail, kRestart, kClaim, kRelease,
  kTransfer, kEnableOverride, kUpdateOverride, kDisableOverride, kMutateGraph, kCommit, kRollback,
  kCount
};

/** Domain invariants in evaluation order; bit i of a violation mask (DOMAIN_INVARIANTS). */
enum class Invariant : int32_t {
  kActorRegistered = 0, kSingleOwner, kRequiredForControl, kAccessibilitySupremacy,
  kAccessibilityAuditable, kNoDeadInterrupt, kCommitBoundary, kValidTransition, kPluginImmutability,
  kCount
};

/** Reason codes (REASON_CODES). */
enum class Reason : int32_t {
  kNone = -1, kUnknownActor = 0, kAlreadyOwned, kNotOwner, kAccessibilityOverride, kTerminalState,
  kCommitBoundary, kInvalidTransition, kPluginImmutable, kInvalidRequest, kRegistrarHalted,
  kCapacityExhausted
};

/** Override scopes (OVERRIDE_SCOPES); also the two scope-id name spaces of InternScope. */
enum class OverrideScope : int32_t { kSession = 0, kUser = 1, kCount };

/** Journal entry kinds: a decision, an evaluation (observe), a seq reserved for a facade denial,
 *  a halt (Halt), and the writer's close fence (CloseWriter). */
enum class EntryKind : int32_t { kDecide = 0, kEvaluate = 1, kReserved = 2, kHalt = 3, kWriterClosed = 4 };

/** Why a request was refused before anything was decided (no seq consumed). */
enum class Refusal : int32_t {
  kNone = 0,
  kRetry = 2,         // the grants or override values the request was computed from changed
  kBackpressure = 3,  // the log writer is too far behind: wait for it, then ask again
  kWriterGone = 4,    // the log writer closed: nothing can be recorded any more
};

/** Halt causes (HALT_CAUSES in src/registrar/core.ts). */
enum class HaltCause : int32_t { kNone = -1, kAccessibilityBypass = 0, kAttestationIo, kStructural, kJournalOverrun, kCount };

/** The log writer of a core (ClaimWriter). */
enum class WriterState : int32_t { kNone = 0, kLive = 1, kClosed = 2 };

/** Status of a core call that can fail. */
enum class CoreStatus : int32_t {
  kOk = 0,
  kIdSpaceFull,     // no id left in one name space (ChunkedTable::kCapacity or the configured capacity)
  kUnknownId,       // an id that was never interned
  kInvalidImage,    // load() got ids or values out of range
  kWriterTaken,     // ClaimWriter: the core has (or had) a log writer
};

/** Bit of `invariant` in a violation mask. */
constexpr uint32_t Bit(Invariant invariant) { return 1u << static_cast<int32_t>(invariant); }
/** Violations that deny (every invariant but the WARN-level auditable one). */
inline constexpr uint32_t kRejectMask = 0x1FFu & ~Bit(Invariant::kAccessibilityAuditable);

/** A request reduced to integers (CoreRequest in core.ts). */
struct Request {
  int32_t actor = kNoId;
  int32_t actorKind = 0;
  int32_t action = 0;
  int32_t stream = kNoId;
  int32_t newOwner = kNoId;
  int32_t preemptFor = kNoId;
  int32_t priority = 5;
  int32_t session = kNoId;
  int32_t user = kNoId;
  int32_t overrideScope = 0;
  int32_t overrideScopeId = kNoId;
  bool pluginAllowed = false;
  /** enable_override by a user: the requester's own user id (scope space 1), else kNoId. */
  int32_t actorUser = kNoId;
  /** With `checkEpoch`: the free epoch the caller's stream ids are valid for (see the header). */
  bool checkEpoch = false;
  uint32_t epoch = 0;
  /** start/claim/compile: the plugin grant set (scope space 2) an allowed decision gives the
   *  stream, or kNoId to leave the grants as they are. */
  int32_t grants = kNoId;
  /** enable/update_override: the override values (scope space 3) it gets, or kNoId for none. */
  int32_t values = kNoId;
  /** With `checkGrants`: the grant set of the target the caller read (pluginAllowed is from it);
   *  refused with kRetry when the stream's grants differ. */
  bool checkGrants = false;
  int32_t expectedGrants = kNoId;
  /** With `checkValues`: the override's values the caller merged into `values`. */
  bool checkValues = false;
  int32_t expectedValues = kNoId;
  /** The decider will post this seq's attestation body (PostBody). */
  bool postsBody = false;
  /** Who decides: an id of the calling object (PostBody checks it); 0 for none. */
  uint32_t decider = 0;
  /** Halt only: the cause (HaltCause). */
  int32_t haltCause = -1;
};

/** A decision (CoreDecision in core.ts). */
struct Decision {
  bool allowed = false;
  uint32_t violations = 0;
  int32_t reason = -1;
  bool halted = false;
  uint64_t seq = 0;
  int32_t stream = kNoId;
  int32_t stateBefore = -1;
  int32_t stateAfter = -1;
  uint64_t version = 0;
  uint64_t parentSeq = 0;
  int32_t ownerBefore = kNoId;
  int32_t ownerAfter = kNoId;
  bool accessibility = false;
  bool preemption = false;
  /** The request's ids are from an older free epoch: nothing was decided, no seq consumed. */
  bool stale = false;
  /** Refused before deciding (no seq consumed): kRetry, kBackpressure or kWriterGone. */
  Refusal refused = Refusal::kNone;
};

/** A journaled decision (JournalEntry in core.ts). */
struct JournalEntry {
  Decision decision;
  int32_t actor = kNoId;
  int32_t actorKind = 0;
  int32_t action = 0;
  int32_t target = kNoId;
  uint64_t monotonicNs = 0;
  int32_t kind = 0;
  /** The request as decided (all fields; default for reserved seqs; `haltCause` for a halt). */
  Request request;
};

/** A stream (CoreStream in core.ts). */
struct StreamView {
  int32_t stream = kNoId;
  int32_t state = 0;
  int32_t owner = kNoId;
  int32_t session = kNoId;
  int32_t user = kNoId;
  int32_t priority = 0;
  uint64_t version = 0;
  uint32_t graphRevision = 0;
  bool committed = false;
  uint64_t lastSeq = 0;
  /** The plugin grant set (scope space 2), or kNoId. */
  int32_t grants = kNoId;
};

/** An active override (CoreOverride in core.ts). */
struct OverrideView {
  int32_t owner = kNoId;
  int32_t scope = 0;
  int32_t scopeId = kNoId;
  /** Its values (scope space 3), or kNoId. */
  int32_t values = kNoId;
};

/** Everything (CoreImage in core.ts). */
struct Image {
  uint64_t lastSeq = 0;
  bool halted = false;
  std::vector<StreamView> streams;
  std::vector<OverrideView> overrides;
  /** Every session membership, sorted by user then session. */
  std::vector<MembershipView> memberships;
};

class Journal;
class BodyChannel;
struct Effects;

/** Seqs of journal (and body channel) left free for halts and the close fence (see the header). */
inline constexpr uint64_t kWriterHeadroom = 64;

/** Result of TakeBody: the body; not posted yet; given up (never to come); none expected (the
 *  decider posts none: write the record from the journal). */
enum class BodyTake { kOk, kNotYet, kAbandoned, kNone };

/** How a core is made. */
struct CoreOptions {
  /** Journal entries kept (rounded up to a power of two, at least 1024). */
  uint32_t journalCapacity = 1u << 16;
  /** Compaction points are the multiples of this; 0 never compacts. */
  uint64_t compactionPeriod = 0;
  /** A terminal stream is removed at the first point at least this many seqs after its last
   *  transition; an unused id without a stream is freed after as long. */
  uint64_t compactionRetain = 0;
  /** Most stream ids at once (live, unused and freed-in-quarantine); at most ChunkedTable::kCapacity. */
  int32_t streamCapacity = ChunkedTable<int>::kCapacity;
  /** Most session ids, and most user ids. */
  int32_t scopeCapacity = ChunkedTable<int>::kCapacity;
};

/**
 * The decision core. Thread safety: every method may be called from any thread at once, except
 * `Load`, which needs the core quiescent (no concurrent Decide/Evaluate/ReserveSeq).
 * Callback safety: not for the audio callback (interning allocates and locks).
 */
class RegistrarCore {
 public:
  /** `journalCapacity` entries are kept (rounded up to a power of two, at least 1024); no compaction. */
  explicit RegistrarCore(uint32_t journalCapacity = 1u << 16);
  /** A core with every option (CoreOptions). */
  explicit RegistrarCore(const CoreOptions& options);
  ~RegistrarCore();
  RegistrarCore(const RegistrarCore&) = delete;
  RegistrarCore& operator=(const RegistrarCore&) = delete;

  /** Interns `key` as an actor of `kind` and marks it registered; kNoId when the space is full
   *  or `kind` is out of range. Thread safety: any thread (takes the actor interner's lock).
   *  Callback safety: no (locks, allocates); the same holds for every interning call below. */
  int32_t RegisterActor(const std::string& key, int32_t kind);
  /** Id of a registered actor, or kNoId. Takes the lock. */
  int32_t ActorId(const std::string& key) const;
  /** Interns a stream id without creating a stream; kFullId when no id is left. */
  int32_t InternStream(const std::string& key);
  /** The interned id of a stream key, or kNoId; interns nothing. */
  int32_t StreamIdOf(const std::string& key) const;
  /** Interns a session (space 0) or user (space 1) id, a plugin grant set (space 2) or a set of
   *  override values (space 3), each as text; kFullId when the space is full, kNoId when `space`
   *  is bad. */
  int32_t InternScope(int32_t space, const std::string& key);
  /** Reverse lookups; false for an unknown id. Thread safety: any thread (take the lock). */
  bool ActorKey(int32_t id, std::string* key) const;
  bool StreamKey(int32_t id, std::string* key) const;
  bool ScopeKey(int32_t space, int32_t id, std::string* key) const;

  /** Decides `request`, applies it when allowed, journals it and consumes one seq. Thread
   *  safety: any thread, concurrently; racing requests on one stream have one winner. No lock,
   *  except when a creating request has no target (it interns "stream-<seq>"). Callback safety:
   *  no (may yield the thread while another decider publishes). */
  Decision Decide(const Request& request) noexcept;
  /** Decides without applying (shadow mode); journals it as kind 1 and consumes one seq.
   *  Thread and callback safety as Decide. */
  Decision Evaluate(const Request& request) noexcept;
  /** Consumes and journals one seq for a request the facade denied itself (invalid_request);
   *  0 when refused (`*refused` says why: backpressure or writer gone). `decider` and `postsBody`
   *  as in Request. Thread and callback safety as Decide. */
  uint64_t ReserveSeq(Refusal* refused = nullptr, uint32_t decider = 0, bool postsBody = false) noexcept;
  /** Halts the core for `cause` (HaltCause, not kAccessibilityBypass, which only a decision
   *  trips): consumes and journals one seq (kind kHalt) after which every request is denied
   *  registrar_halted. Returns that seq; 0 when the core is already halted, the cause is bad, or
   *  it was refused (`*refused`: the writer is gone, or even its headroom is used up). Thread and
   *  callback safety as Decide. */
  uint64_t Halt(int32_t cause, uint32_t decider = 0, bool postsBody = false, Refusal* refused = nullptr) noexcept;
  /** Why the core halted (HaltCause), kNone while it runs; and the seq of the halt. Any thread. */
  int32_t HaltCauseOf() const noexcept { return haltCause_.load(std::memory_order_acquire); }
  uint64_t HaltSeq() const noexcept { return haltSeq_.load(std::memory_order_acquire); }

  /** Makes the caller the core's one log writer, which has written every seq up to `writtenSeq`
   *  (see the header). kWriterTaken when the core has or had one. Any thread (one CAS). */
  [[nodiscard]] CoreStatus ClaimWriter(uint64_t writtenSeq) noexcept;
  /** The writer has drained (read from the journal and the body channel) every seq up to `seq`:
   *  those slots may be reused. Monotonic (a lower value is ignored). Writer's thread only. */
  void NoteWritten(uint64_t seq) noexcept;
  /** The last seq the writer noted (NoteWritten). Any thread. */
  uint64_t WrittenSeq() const noexcept { return written_.load(std::memory_order_acquire); }
  /** The writer's state (WriterState). Any thread. */
  int32_t Writer() const noexcept { return writerState_.load(std::memory_order_acquire); }
  /** Closes the writer: claims the close fence (EntryKind::kWriterClosed) and returns its seq;
   *  every later request is refused kWriterGone. 0 when there is no live writer. When the writer
   *  is so far behind that even the fence cannot be journaled, its undrained seqs are given up
   *  (only a writer that dies without draining gets there). Thread and callback safety as Decide. */
  uint64_t CloseWriter() noexcept;

  /** Posts the attestation body of `seq`, decided by `decider` with postsBody (see Request): true
   *  when it is now the writer's to take; false when seq was not decided so, by someone else,
   *  is posted already, or was given up by the writer (TakeBody with abandon). Thread safety: any
   *  thread, lock-free (one CAS, then a copy into the slot). Callback safety: no (allocates). */
  bool PostBody(uint64_t seq, uint32_t decider, const char* text, size_t length) noexcept;
  /** The writer takes seq's body into `out` (kOk); kNone when seq's decider posts none; kNotYet
   *  while seq is not journaled or its body not posted (with `abandon` an unposted body is given
   *  up instead: kAbandoned, and a late PostBody fails). Writer's thread only. Callback safety:
   *  no (allocates). */
  BodyTake TakeBody(uint64_t seq, std::string* out, bool abandon) noexcept;

  /** Stores text the writer shares with attaching objects (its log identity), once: false when
   *  already set. ShareInfo reads it (false when unset). Any thread (takes a small lock, never
   *  while deciding). */
  bool SetShareInfo(const std::string& info);
  bool ShareInfo(std::string* info) const;

  /** A stream (consistent snapshot of its words); false when it does not exist. Thread safety:
   *  any thread, no lock (retries while a seq is being applied). Callback safety: no. */
  bool Stream(int32_t id, StreamView* view) const noexcept;
  /** Active overrides, in enable order. Thread safety: any thread, no lock (allocates). */
  std::vector<OverrideView> Overrides() const;
  /** Adds `basis` bits (kMemberDeclared...) to user `user`'s membership of session `session`
   *  (both interned scope ids); kUnknownId for an id not interned, or no basis bit. Not a
   *  decision: no seq. Thread safety: any thread, no lock; visible to every decision claimed
   *  after it returns. Callback safety: no (allocates). */
  [[nodiscard]] CoreStatus DeclareMember(int32_t user, int32_t session, uint32_t basis);
  /** Basis bits of `user` in `session`, 0 when not a member. Thread safety: any thread, no lock.
   *  Callback safety: yes (no allocation, no lock). */
  uint32_t Membership(int32_t user, int32_t session) const noexcept { return memberships_.Basis(user, session); }
  /** Every membership, sorted by user then session. Thread safety: any thread, no lock (allocates). */
  std::vector<MembershipView> Memberships() const { return memberships_.List(); }
  /** A consistent image of all state. Thread safety: any thread, no lock; it retries while
   *  other threads decide, so under sustained decisions from other threads it may take long. */
  Image TakeImage() const;
  /** Replaces all state with `image` (ids must be interned already). Thread safety: only while
   *  no other thread decides, evaluates or reserves (restore time). */
  [[nodiscard]] CoreStatus Load(const Image& image);
  /** Appends to `out` the published entries with seq in [fromSeq, ...), in order, stopping at the
   *  first unpublished seq; at most `maxEntries`. When the ring already overwrote fromSeq, starts
   *  at the oldest seq it still holds (so the first entry's seq says how much was lost).
   *  Thread safety: any thread, no lock (seqlock reads of the ring). */
  [[nodiscard]] CoreStatus ReadJournal(uint64_t fromSeq, uint32_t maxEntries,
                                       std::vector<JournalEntry>* out) const;
  /** Last seq handed out. */
  uint64_t LastSeq() const noexcept { return claimed_.load(std::memory_order_acquire); }
  /** Whether a HALT was applied. */
  bool Halted() const noexcept { return halted_.load(std::memory_order_acquire); }
  /** What WatchTarget found. */
  enum class WatchStatus : int32_t { kOk = 0, kNoSlot, kSuperseded };
  /** Fills `target` with what a mixer voice needs to watch, from the audio callback
   *  (stream_watch.h), the play decided at seq `playSeq` of stream `id`: the address of its
   *  state word and of the halted flag, and the version that play gave the stream as the floor.
   *  kNoSlot when `id` has no slot; kSuperseded (target untouched) when the stream's last
   *  decision is no longer `playSeq`: the stream moved on (possibly interrupted and played
   *  again, a newer play the floor could not tell apart), so that play has nothing to watch.
   *  The addresses stay valid while the core lives (chunks never move); the caller keeps the core
   *  alive. Thread safety: any thread, no lock. Callback safety: yes, but it is meant for the
   *  control thread (arming a watch). */
  WatchStatus WatchTarget(int32_t id, uint64_t playSeq, StreamWatchTarget* target) const noexcept;
  /** Journal capacity in entries. */
  uint32_t JournalCapacity() const noexcept;
  /** The free epoch: how many compaction sweeps freed ids (see the header). Any thread. */
  uint32_t FreeEpoch() const noexcept { return freeEpoch_.load(std::memory_order_acquire); }
  /** Compaction period and retention (0 period: never compacts). */
  uint64_t CompactionPeriod() const noexcept { return options_.compactionPeriod; }
  uint64_t CompactionRetain() const noexcept { return options_.compactionRetain; }
  /** How many streams the sweep of compaction point `seq` removed, into `removed`; false when
   *  `seq` is not a point, is not decided yet, or is older than the ring remembers (two journal
   *  lengths of points, and nothing from before a Load). Helps apply up to `seq` first, so the
   *  count is final. Thread safety: any thread, no lock. Callback safety: no (may yield). */
  bool SweptAt(uint64_t seq, uint32_t* removed) const noexcept;
  /** Stream ids interned and not freed (for tests and the memory bench). Takes the lock. */
  int32_t LiveStreamIds() const { return streamIds_.LiveCount(); }
  /** Size of the stream table (ids ever made, freed ones included). Takes the lock. */
  int32_t StreamTableSize() const { return streamIds_.Count(); }

  /** Per-stream atomic words (public for the journal's effect application). */
  struct StreamSlot {
    std::atomic<uint64_t> word;   // exists | state | committed | owner+1 | version
    std::atomic<uint64_t> aux;    // lastSeq | graphRevision
    std::atomic<uint64_t> meta;   // set | priority | session+1 | user+1 (written once per stream)
    std::atomic<uint64_t> touch;  // kFreeBit while freed, else the last seq that interned or named it
    std::atomic<uint64_t> grants; // plugin grant set id+1 | seq of the last change (0: none)
  };
  /** Bit of StreamSlot::touch set while the id is freed. */
  static constexpr uint64_t kFreeBit = uint64_t{1} << 63;
  /** Per-actor registration word: kind+1, 0 when unregistered. */
  struct ActorSlot {
    std::atomic<uint32_t> kindPlusOne;
  };
  /** Per-scope-id override word: owner+1 | seq of the last change; and its values: values id+1 |
   *  seq of the last change. */
  struct OverrideSlot {
    std::atomic<uint64_t> word;
    std::atomic<uint64_t> values;
  };

 private:
  Decision Run(const Request& request, EntryKind kind) noexcept;
  bool Compute(const Request& request, uint64_t seq, bool apply, Decision* decision,
               Effects* effects) noexcept;
  /** Applies seq's effects from its journal entry if not yet applied (any thread may help). */
  void HelpApply(uint64_t seq) const noexcept;
  /** The compaction sweep of point `seq` (once; other appliers wait for it). */
  void Compact(uint64_t seq) const noexcept;
  /** Counts a helper into the current generation (returned); ExitHelp counts it out. */
  uint64_t EnterHelp() const noexcept;
  void ExitHelp(uint64_t generation) const noexcept;
  /** Removes and frees what point `seq` compacts; returns how many streams it removed. */
  uint32_t SweepLocked(Interner& streams, uint64_t seq) const noexcept;
  /** Whether a stream id names a freed slot. */
  bool Freed(int32_t id) const noexcept;
  OverrideSlot* OverrideFor(int32_t space, int32_t scopeId) const noexcept;
  /** Owners of the overrides covering a stream with `meta`: its session's and its user's (kNoId
   *  where there is none). */
  void CoveringOwners(uint64_t meta, int32_t* sessionOwner, int32_t* userOwner) const noexcept;
  bool ReadStream(int32_t id, StreamView* view) const noexcept;

  CoreOptions options_;
  Interner actorIds_;
  mutable Interner streamIds_;  // the compaction sweep (in HelpApply, const) frees ids
  Interner scopeIds_[4];  // sessions, users, plugin grant sets, override values
  ChunkedTable<ActorSlot> actors_;
  ChunkedTable<StreamSlot> streams_;
  ChunkedTable<OverrideSlot> overrides_[2];
  // Mutable: helpers (HelpApply, const) add the memberships a creating decision implies.
  mutable MembershipSet memberships_;

  // Mutable: readers (Stream, TakeImage) help apply a pending seq before they read.
  alignas(64) mutable std::atomic<uint64_t> claimed_{0};
  alignas(64) mutable std::atomic<uint64_t> applied_{0};
  alignas(64) mutable std::atomic<bool> halted_{false};
  // Compaction: the last point whose sweep was taken, and the last one finished.
  alignas(64) mutable std::atomic<uint64_t> sweepTaken_{0};
  mutable std::atomic<uint64_t> sweepDone_{0};
  mutable std::atomic<uint32_t> freeEpoch_{0};
  // Sweep results, slot (point / period) % sweepSlots_: point seq (40 bits) << 24 | removed (24).
  uint32_t sweepSlots_ = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> sweeps_;
  // Helpers applying effects, counted per generation (compaction only; see the header).
  alignas(64) mutable std::atomic<uint64_t> helperGeneration_{0};
  mutable std::atomic<int64_t> helpersIn_[2] = {};
  // The log writer (see the header): its state, and the last seq it drained.
  alignas(64) mutable std::atomic<int32_t> writerState_{0};
  alignas(64) std::atomic<uint64_t> written_{0};
  // The halt's cause and seq, stored before halted_ (release), so whoever sees halted_ sees them.
  mutable std::atomic<int32_t> haltCause_{-1};
  mutable std::atomic<uint64_t> haltSeq_{0};
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<BodyChannel> bodies_;
  mutable std::mutex shareInfoLock_;
  std::string shareInfo_;
};

}  // namespace vs::registrar
