// The registrar decision core: the rules of spec/registrar.md §2-§4 over atomic words, and the
// claim/publish/apply sequencer described in registrar_core.h.
#include "registrar_core.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <thread>

#include "registrar_bodies.h"
#include "registrar_journal.h"

namespace vs::registrar {
namespace {

// Stream word: exists(1) | state(3) | committed(1) | owner+1 (24) | version (35).
constexpr uint64_t kExistsBit = 1;
int32_t WordState(uint64_t word) { return static_cast<int32_t>((word >> 1) & 7); }
bool WordCommitted(uint64_t word) { return (word >> 4) & 1; }
int32_t WordOwner(uint64_t word) { return static_cast<int32_t>((word >> 5) & 0xFFFFFF) - 1; }
uint64_t WordVersion(uint64_t word) { return word >> 29; }
constexpr uint64_t MakeWord(int32_t state, bool committed, int32_t owner, uint64_t version) {
  return kExistsBit | (static_cast<uint64_t>(state & 7) << 1) | (committed ? 1u << 4 : 0u) |
         (static_cast<uint64_t>(static_cast<uint32_t>(owner + 1) & 0xFFFFFF) << 5) | (version << 29);
}

// The audio callback's watch (stream_watch.h) reads this layout: keep the two equal.
static_assert(WordPlays(MakeWord(static_cast<int32_t>(StreamState::kPlaying), true, 7, 9), 9), "watch: playing word");
static_assert(!WordPlays(MakeWord(static_cast<int32_t>(StreamState::kPlaying), false, 7, 9), 10), "watch: version floor");
static_assert(!WordPlays(MakeWord(static_cast<int32_t>(StreamState::kInterrupting), false, 7, 9), 1), "watch: state field");
static_assert(!WordPlays(MakeWord(static_cast<int32_t>(StreamState::kPlaying), false, 7, 9) & ~kExistsBit, 1), "watch: exists bit");
static_assert(stream_word::kExistsBit == kExistsBit, "watch: exists bit");

// Aux word: lastSeq (40) | graphRevision (24).
constexpr uint64_t kSeqMask = (uint64_t{1} << 40) - 1;
uint64_t AuxLastSeq(uint64_t aux) { return aux & kSeqMask; }
uint32_t AuxGraph(uint64_t aux) { return static_cast<uint32_t>(aux >> 40); }
uint64_t MakeAux(uint64_t lastSeq, uint32_t graphRevision) {
  return (lastSeq & kSeqMask) | (static_cast<uint64_t>(graphRevision & 0xFFFFFF) << 40);
}

// Meta word (immutable once set): set(1) | priority(4) | session+1 (29) | user+1 (30).
int32_t MetaPriority(uint64_t meta) { return static_cast<int32_t>((meta >> 1) & 0xF); }
int32_t MetaSession(uint64_t meta) { return static_cast<int32_t>((meta >> 5) & 0x1FFFFFFF) - 1; }
int32_t MetaUser(uint64_t meta) { return static_cast<int32_t>((meta >> 34) & 0x3FFFFFFF) - 1; }
uint64_t MakeMeta(int32_t priority, int32_t session, int32_t user) {
  return 1u | (static_cast<uint64_t>(priority & 0xF) << 1) |
         (static_cast<uint64_t>(static_cast<uint32_t>(session + 1)) << 5) |
         (static_cast<uint64_t>(static_cast<uint32_t>(user + 1)) << 34);
}

// Override word: owner+1 (24) | seq of the last change (40); owner+1 == 0 means "no override".
// The facade words (a stream's grants, an override's values) have the same shape: id+1 | seq.
int32_t OverrideOwner(uint64_t word) { return static_cast<int32_t>(word & 0xFFFFFF) - 1; }
uint64_t MakeOverride(int32_t owner, uint64_t seq) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(owner + 1)) & 0xFFFFFF) | ((seq & kSeqMask) << 24);
}

bool IsOneOf(Action action, std::initializer_list<Action> actions) {
  for (Action candidate : actions) {
    if (candidate == action) return true;
  }
  return false;
}

/** Index into REASON_CODES of the first rejecting violation in §4 order. */
int32_t FirstReason(uint32_t rejecting) {
  for (int32_t bit = 0; bit < static_cast<int32_t>(Invariant::kCount); ++bit) {
    if (rejecting & (1u << bit)) {
      // Reasons skip the WARN-level auditable invariant, which has none.
      return bit < static_cast<int32_t>(Invariant::kAccessibilityAuditable) ? bit : bit - 1;
    }
  }
  return -1;
}

uint64_t MonotonicNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void Backoff(int attempt) {
  if (attempt > 32) std::this_thread::yield();
}

}  // namespace

RegistrarCore::RegistrarCore(uint32_t journalCapacity) : RegistrarCore(CoreOptions{journalCapacity}) {}

RegistrarCore::RegistrarCore(const CoreOptions& options)
    : options_(options),
      journal_(std::make_unique<Journal>(options.journalCapacity)),
      bodies_(std::make_unique<BodyChannel>(journal_->Capacity())) {
  constexpr int32_t kMax = ChunkedTable<StreamSlot>::kCapacity;
  options_.streamCapacity = std::clamp(options_.streamCapacity, 1, kMax);
  options_.scopeCapacity = std::clamp(options_.scopeCapacity, 1, kMax);
  if (options_.compactionPeriod != 0) {
    // Two journal lengths of points (and two more), so a reader of a point's journal entry finds
    // its count; at most 2^20 slots (8 MiB), reached only by a period far below the journal's length.
    const uint64_t points = 2 * (journal_->Capacity() / options_.compactionPeriod) + 2;
    sweepSlots_ = static_cast<uint32_t>(std::min<uint64_t>(points, uint64_t{1} << 20));
    sweeps_ = std::make_unique<std::atomic<uint64_t>[]>(sweepSlots_);
    for (uint32_t slot = 0; slot < sweepSlots_; ++slot) sweeps_[slot].store(0, std::memory_order_relaxed);
  }
}

RegistrarCore::~RegistrarCore() = default;

uint32_t RegistrarCore::JournalCapacity() const noexcept { return journal_->Capacity(); }

int32_t RegistrarCore::RegisterActor(const std::string& key, int32_t kind) {
  if (kind < 0 || kind >= static_cast<int32_t>(ActorKind::kCount)) return kNoId;
  const int32_t id = actorIds_.Intern(key, [this](int32_t size) { return actors_.Grow(size); });
  if (id < 0) return kNoId;
  actors_.At(id).kindPlusOne.store(static_cast<uint32_t>(kind + 1), std::memory_order_release);
  return id;
}

int32_t RegistrarCore::ActorId(const std::string& key) const {
  const int32_t id = actorIds_.Find(key);
  if (id == kNoId || actors_.At(id).kindPlusOne.load(std::memory_order_acquire) == 0) return kNoId;
  return id;
}

int32_t RegistrarCore::InternStream(const std::string& key) {
  const uint64_t now = claimed_.load(std::memory_order_acquire);
  const uint64_t quarantine = journal_->Capacity();
  return streamIds_.InternReusing(
      key, false, [this](int32_t size) { return size <= options_.streamCapacity && streams_.Grow(size); },
      now > quarantine ? now - quarantine : 0,
      [this, now](int32_t id) { streams_.At(id).touch.store(now, std::memory_order_release); });
}

bool RegistrarCore::Freed(int32_t id) const noexcept {
  return (streams_.At(id).touch.load(std::memory_order_acquire) & kFreeBit) != 0;
}

int32_t RegistrarCore::StreamIdOf(const std::string& key) const { return streamIds_.Find(key); }

int32_t RegistrarCore::InternScope(int32_t space, const std::string& key) {
  if (space < 0 || space > 3) return kNoId;
  if (space >= 2) {  // grant sets and override values: text only, no table of their own
    return scopeIds_[space].Intern(key, [this](int32_t size) { return size <= options_.scopeCapacity; });
  }
  return scopeIds_[space].Intern(
      key, [this, space](int32_t size) { return size <= options_.scopeCapacity && overrides_[space].Grow(size); });
}

bool RegistrarCore::ActorKey(int32_t id, std::string* key) const { return actorIds_.Key(id, key); }
bool RegistrarCore::StreamKey(int32_t id, std::string* key) const { return streamIds_.Key(id, key); }
bool RegistrarCore::ScopeKey(int32_t space, int32_t id, std::string* key) const {
  return space >= 0 && space <= 3 && scopeIds_[space].Key(id, key);
}

RegistrarCore::OverrideSlot* RegistrarCore::OverrideFor(int32_t space, int32_t scopeId) const noexcept {
  if ((space != 0 && space != 1) || scopeId < 0 || scopeId >= overrides_[space].Size()) return nullptr;
  return &overrides_[space].At(scopeId);
}

void RegistrarCore::CoveringOwners(uint64_t meta, int32_t* sessionOwner, int32_t* userOwner) const noexcept {
  // §3.1: every covering override counts, its session's and its user's (at most one of each).
  const OverrideSlot* bySession = OverrideFor(0, MetaSession(meta));
  const OverrideSlot* byUser = OverrideFor(1, MetaUser(meta));
  *sessionOwner = bySession != nullptr ? OverrideOwner(bySession->word.load(std::memory_order_acquire)) : kNoId;
  *userOwner = byUser != nullptr ? OverrideOwner(byUser->word.load(std::memory_order_acquire)) : kNoId;
}

CoreStatus RegistrarCore::DeclareMember(int32_t user, int32_t session, uint32_t basis) {
  const bool known = user >= 0 && user < overrides_[1].Size() && session >= 0 && session < overrides_[0].Size();
  if (!known || (basis & kMemberAll) == 0) return CoreStatus::kUnknownId;
  memberships_.Add(user, session, basis);
  return CoreStatus::kOk;
}

// The rules. Reads the state as of seq - 1 (the caller guarantees no seq >= `seq` is applied, or
// discards the result); fills the decision and, when allowed and `apply`, the effects. Returns
// true when the request creates a stream with no target: the caller mints its id after the claim.
bool RegistrarCore::Compute(const Request& r, uint64_t seq, bool apply, Decision* d, Effects* e) noexcept {
  *d = Decision{};
  *e = Effects{};
  d->seq = seq;
  d->stream = r.stream == kFullId ? kNoId : r.stream;
  if (r.checkEpoch && r.epoch != freeEpoch_.load(std::memory_order_acquire)) {
    d->stale = true;  // the caller's ids may name freed slots: it re-interns and asks again
    return false;
  }

  // kFullId: an id the caller could not intern (denied capacity_exhausted below, after halted).
  const bool streamIdValid = r.stream == kNoId || r.stream == kFullId ||
                             (r.stream >= 0 && r.stream < streams_.Size() && !Freed(r.stream));
  uint64_t word = 0, aux = 0, meta = 0, grantsWord = 0;
  if (r.stream >= 0 && streamIdValid) {
    const StreamSlot& slot = streams_.At(r.stream);
    word = slot.word.load(std::memory_order_acquire);
    aux = slot.aux.load(std::memory_order_acquire);
    meta = slot.meta.load(std::memory_order_acquire);
    grantsWord = slot.grants.load(std::memory_order_acquire);
  }
  // Facade state the caller computed the request from (see the header): changed since, ask again.
  if (r.checkGrants && OverrideOwner(grantsWord) != r.expectedGrants) {
    d->refused = Refusal::kRetry;
    return false;
  }
  if (r.checkValues) {
    const OverrideSlot* slot = OverrideFor(r.overrideScope, r.overrideScopeId);
    const uint64_t values = slot != nullptr ? slot->values.load(std::memory_order_acquire) : 0;
    if (OverrideOwner(values) != r.expectedValues) {
      d->refused = Refusal::kRetry;
      return false;
    }
  }
  const bool exists = word & kExistsBit;
  const int32_t state = WordState(word);
  const int32_t owner = exists ? WordOwner(word) : kNoId;
  if (exists) {
    d->stateBefore = d->stateAfter = state;
    d->version = WordVersion(word);
    d->parentSeq = AuxLastSeq(aux);
    d->ownerBefore = d->ownerAfter = owner;
  }
  auto finish = [d](uint32_t violations, int32_t reason) {
    d->violations = violations;
    d->reason = reason;
    d->allowed = reason < 0;
  };
  const int32_t invalid = static_cast<int32_t>(Reason::kInvalidRequest);
  if (r.actorKind < 0 || r.actorKind >= static_cast<int32_t>(ActorKind::kCount) || r.action < 0 ||
      r.action >= static_cast<int32_t>(Action::kCount) || !streamIdValid) {
    finish(0, halted_.load(std::memory_order_acquire) ? static_cast<int32_t>(Reason::kRegistrarHalted) : invalid);
    return false;
  }
  const auto action = static_cast<Action>(r.action);
  const auto kind = static_cast<ActorKind>(r.actorKind);
  const bool overrideAction =
      IsOneOf(action, {Action::kEnableOverride, Action::kUpdateOverride, Action::kDisableOverride});
  const bool creating = !exists && (action == Action::kStart || action == Action::kClaim);
  const bool mint = creating && r.stream == kNoId;
  int32_t sessionOwner = kNoId, userOwner = kNoId;
  if (exists) CoveringOwners(meta, &sessionOwner, &userOwner);
  const bool covered = sessionOwner != kNoId || userOwner != kNoId;
  // The requester owns one of the overrides covering the target (each owner has the power, §3.1).
  const bool coveringOwnerActs = r.actor != kNoId && (r.actor == sessionOwner || r.actor == userOwner);
  d->accessibility = overrideAction || covered;
  if (overrideAction) d->stream = kNoId;  // override actions concern no stream
  if (halted_.load(std::memory_order_acquire)) {
    finish(0, static_cast<int32_t>(Reason::kRegistrarHalted));
    return mint;
  }
  if (r.stream == kFullId || r.preemptFor == kFullId || r.session == kFullId || r.user == kFullId ||
      r.overrideScopeId == kFullId || r.actorUser == kFullId) {
    // The table is full: denied and attested like any decision, never thrown.
    finish(0, static_cast<int32_t>(Reason::kCapacityExhausted));
    return false;
  }
  auto registered = [this](int32_t actor) {
    return actor >= 0 && actor < actors_.Size() &&
           actors_.At(actor).kindPlusOne.load(std::memory_order_acquire) != 0;
  };
  uint32_t v = 0;
  if (!registered(r.actor)) v |= Bit(Invariant::kActorRegistered);

  // Override actions: registrar state of their own, not a stream transition.
  if (overrideAction) {
    OverrideSlot* slot = OverrideFor(r.overrideScope, r.overrideScopeId);
    if (slot == nullptr) {
      finish(0, invalid);
      return false;
    }
    const uint64_t current = slot->word.load(std::memory_order_acquire);
    const int32_t overrideOwner = OverrideOwner(current);
    bool halt = false;
    if (action == Action::kEnableOverride) {
      // Only a user enables, only for their own user scope or a session they belong to (§3.1,
      // required_for_control: not_owner); enabling over an active override is refused.
      const bool isUser = kind == ActorKind::kUser;
      bool entitled = false;
      if (isUser && r.actorUser >= 0) {
        entitled = r.overrideScope == static_cast<int32_t>(OverrideScope::kUser)
                       ? r.overrideScopeId == r.actorUser
                       : (memberships_.Basis(r.actorUser, r.overrideScopeId) & (kMemberDeclared | kMemberStream)) != 0;
      }
      if (isUser && !entitled) v |= Bit(Invariant::kRequiredForControl);
      if (!isUser || overrideOwner != kNoId) v |= Bit(Invariant::kAccessibilitySupremacy);
      // It would replace (end) another user's override without disable_override: HALT, but only
      // for a registered user who may enable there. Unknown actors, agents, plugins, the system
      // and users outside the scope are refused and never halt (its own owner: update_override).
      halt = overrideOwner != kNoId && r.actor != overrideOwner && registered(r.actor) && entitled;
    } else if (overrideOwner == kNoId) {
      v |= Bit(Invariant::kValidTransition);
    } else if (r.actor != overrideOwner) {
      v |= Bit(Invariant::kAccessibilitySupremacy);
    }
    finish(v, FirstReason(v & kRejectMask));
    d->halted = halt;
    if (apply && halt) {
      e->halt = true;
      e->haltCause = static_cast<int32_t>(HaltCause::kAccessibilityBypass);
    }
    if (apply && d->allowed && action != Action::kUpdateOverride) {
      e->overrideSpace = r.overrideScope;
      e->overrideScopeId = r.overrideScopeId;
      e->oldOverride = current;
      e->newOverride = MakeOverride(action == Action::kEnableOverride ? r.actor : kNoId, seq);
    }
    if (apply && d->allowed) {
      // The override's values: set by enable and update (the caller merged them), gone with disable.
      e->facadeKind = Effects::kFacadeValues;
      e->facadeSpace = r.overrideScope;
      e->facadeSlot = r.overrideScopeId;
      e->oldFacade = slot->values.load(std::memory_order_acquire);
      e->newFacade = MakeOverride(action == Action::kDisableOverride ? kNoId : r.values, seq);
    }
    return false;
  }

  if (creating) {
    const bool scopesValid = (r.session == kNoId || (r.session >= 0 && r.session < overrides_[0].Size())) &&
                             (r.user == kNoId || (r.user >= 0 && r.user < overrides_[1].Size()));
    if (r.priority < 1 || r.priority > 10 || !scopesValid) {
      finish(0, invalid);
      return mint;
    }
  }
  const bool isSystem = kind == ActorKind::kSystem;
  const bool isPlugin = kind == ActorKind::kPlugin;
  const bool isAgentOrPlugin = isPlugin || kind == ActorKind::kAgent;
  const bool isOwner = exists && r.actor != kNoId && r.actor == owner;
  const bool committed = exists && WordCommitted(word);
  const bool guarded = IsOneOf(
      action, {Action::kInterrupt, Action::kStop, Action::kFail, Action::kMutateGraph, Action::kTransfer});

  bool preempting = false;
  if (isSystem && action == Action::kInterrupt && exists && r.preemptFor != kNoId &&
      r.preemptFor != r.stream && r.preemptFor >= 0 && r.preemptFor < streams_.Size()) {
    const StreamSlot& other = streams_.At(r.preemptFor);
    const uint64_t otherMeta = other.meta.load(std::memory_order_acquire);
    preempting = (other.word.load(std::memory_order_acquire) & kExistsBit) &&
                 MetaPriority(otherMeta) > MetaPriority(meta);
  }

  // audio.ownership.single_owner
  if (action == Action::kClaim && exists && owner != kNoId) v |= Bit(Invariant::kSingleOwner);
  // audio.ownership.required_for_control (§3.2-3.4; the owner of any covering override may act
  // on the actions the override guards, §3.1)
  if (exists && action != Action::kClaim) {
    const bool authorized =
        isOwner ||
        (isSystem && IsOneOf(action, {Action::kSynthesize, Action::kPlay, Action::kStop, Action::kFail})) ||
        preempting || (isPlugin && action == Action::kMutateGraph && r.pluginAllowed) ||
        (guarded && coveringOwnerActs);
    if (!authorized) v |= Bit(Invariant::kRequiredForControl);
  }
  // audio.accessibility.supremacy: agents and plugins lose the guarded actions (fail included);
  // a system preemption yields too. The system may still fail (a runtime error) and stop.
  if (covered && guarded && !coveringOwnerActs && (isAgentOrPlugin || (isSystem && preempting))) {
    v |= Bit(Invariant::kAccessibilitySupremacy);
  }
  // audio.lifecycle.no_dead_interrupt
  const auto stateIs = [state, exists](std::initializer_list<StreamState> states) {
    if (!exists) return false;
    for (StreamState candidate : states) {
      if (static_cast<int32_t>(candidate) == state) return true;
    }
    return false;
  };
  if (action == Action::kInterrupt && (!exists || stateIs({StreamState::kStopped, StreamState::kFailed}))) {
    v |= Bit(Invariant::kNoDeadInterrupt);
  }
  // audio.lifecycle.commit_boundary
  if (committed && IsOneOf(action, {Action::kCompile, Action::kMutateGraph, Action::kRollback})) {
    v |= Bit(Invariant::kCommitBoundary);
  }
  // audio.lifecycle.valid_transition (§2)
  bool valid = false;
  int32_t to = state;
  switch (action) {
    case Action::kStart:
      valid = creating || stateIs({StreamState::kIdle});
      to = static_cast<int32_t>(StreamState::kCompiling);
      break;
    case Action::kCompile:
    case Action::kMutateGraph:
    case Action::kCommit:
    case Action::kRollback:
      valid = stateIs({StreamState::kCompiling});
      break;
    case Action::kSynthesize:
      valid = stateIs({StreamState::kCompiling});
      to = static_cast<int32_t>(StreamState::kSynthesizing);
      break;
    case Action::kPlay:
      valid = stateIs({StreamState::kSynthesizing});
      to = static_cast<int32_t>(StreamState::kPlaying);
      break;
    case Action::kInterrupt:
      valid = stateIs({StreamState::kPlaying});
      to = static_cast<int32_t>(StreamState::kInterrupting);
      break;
    case Action::kStop:
      valid = stateIs({StreamState::kPlaying, StreamState::kInterrupting});
      to = static_cast<int32_t>(StreamState::kStopped);
      break;
    case Action::kFail:
      valid = stateIs({StreamState::kIdle, StreamState::kCompiling, StreamState::kSynthesizing,
                       StreamState::kPlaying, StreamState::kInterrupting});
      to = static_cast<int32_t>(StreamState::kFailed);
      break;
    case Action::kRestart:
      valid = stateIs({StreamState::kStopped, StreamState::kFailed});
      to = static_cast<int32_t>(StreamState::kIdle);
      break;
    case Action::kClaim:
      valid = true;
      to = exists ? state : static_cast<int32_t>(StreamState::kIdle);
      break;
    case Action::kRelease:
      valid = stateIs({StreamState::kIdle, StreamState::kStopped, StreamState::kFailed});
      break;
    case Action::kTransfer:
      valid = exists && state != static_cast<int32_t>(StreamState::kFailed) && registered(r.newOwner);
      break;
    default:
      break;
  }
  if (!valid) v |= Bit(Invariant::kValidTransition);
  // audio.plugin.immutability: no lifecycle change (creating a stream is one), graph only
  // before commit.
  if (isPlugin && (creating ||
                   IsOneOf(action, {Action::kStart, Action::kSynthesize, Action::kPlay, Action::kInterrupt,
                                    Action::kStop, Action::kFail, Action::kRestart}) ||
                   (committed && IsOneOf(action, {Action::kCompile, Action::kMutateGraph,
                                                  Action::kCommit, Action::kRollback})))) {
    v |= Bit(Invariant::kPluginImmutability);
  }

  finish(v, FirstReason(v & kRejectMask));
  if (!d->allowed) return mint;
  // An allowed preemption is attested as one unless the system interrupts its own stream.
  d->preemption = preempting && !isOwner;

  bool nextCommitted = committed;
  uint32_t nextGraph = exists ? AuxGraph(aux) : 0;
  int32_t nextOwner = creating ? r.actor : owner;
  switch (action) {
    case Action::kStart:
      nextCommitted = false;  // a new lifecycle compiles a new graph
      nextGraph = 0;
      break;
    case Action::kCompile:
    case Action::kMutateGraph:
      ++nextGraph;
      break;
    case Action::kSynthesize:
    case Action::kCommit:
      nextCommitted = true;  // sealing makes the current graph the base
      nextGraph = 0;
      break;
    case Action::kRollback:
      nextGraph = 0;
      break;
    case Action::kClaim:
      nextOwner = r.actor;
      break;
    case Action::kRelease:
      nextOwner = kNoId;
      break;
    case Action::kTransfer:
      nextOwner = r.newOwner;
      break;
    default:
      break;
  }
  const uint64_t nextVersion = (exists ? WordVersion(word) : 0) + 1;
  d->stateAfter = to;
  d->version = nextVersion;
  d->ownerAfter = nextOwner;
  if (!apply) return mint;
  e->stream = r.stream;  // kNoId when minting: set after the claim
  e->oldWord = exists ? word : 0;
  e->newWord = MakeWord(to, nextCommitted, nextOwner, nextVersion);
  e->oldAux = exists ? aux : 0;
  e->newAux = MakeAux(seq, nextGraph);
  e->newMeta = creating ? MakeMeta(r.priority, r.session, r.user) : 0;
  // The stream's plugin grants: none when created, set by a start/claim/compile that carries a
  // grant set, dropped by transfer and release.
  const int32_t grantsBefore = exists ? OverrideOwner(grantsWord) : kNoId;
  int32_t grantsAfter = grantsBefore;
  if (IsOneOf(action, {Action::kStart, Action::kClaim, Action::kCompile}) && r.grants != kNoId) grantsAfter = r.grants;
  if (IsOneOf(action, {Action::kTransfer, Action::kRelease})) grantsAfter = kNoId;
  if (grantsAfter != grantsBefore || (creating && grantsWord != 0)) {
    e->facadeKind = Effects::kFacadeGrants;
    e->facadeSlot = r.stream;  // kNoId when minting: set after the claim
    e->oldFacade = grantsWord;
    e->newFacade = MakeOverride(grantsAfter, seq);
  }
  return mint;
}

Decision RegistrarCore::Decide(const Request& request) noexcept { return Run(request, EntryKind::kDecide); }
Decision RegistrarCore::Evaluate(const Request& request) noexcept { return Run(request, EntryKind::kEvaluate); }

uint64_t RegistrarCore::ReserveSeq(Refusal* refused, uint32_t decider, bool postsBody) noexcept {
  Request request;
  request.decider = decider;
  request.postsBody = postsBody;
  const Decision decision = Run(request, EntryKind::kReserved);
  if (refused != nullptr) *refused = decision.refused;
  return decision.seq;
}

uint64_t RegistrarCore::Halt(int32_t cause, uint32_t decider, bool postsBody, Refusal* refused) noexcept {
  if (refused != nullptr) *refused = Refusal::kNone;
  if (cause <= static_cast<int32_t>(HaltCause::kAccessibilityBypass) || cause >= static_cast<int32_t>(HaltCause::kCount)) return 0;
  Request request;
  request.decider = decider;
  request.postsBody = postsBody;
  request.haltCause = cause;
  const Decision decision = Run(request, EntryKind::kHalt);
  if (refused != nullptr) *refused = decision.refused;
  return decision.seq;
}

CoreStatus RegistrarCore::ClaimWriter(uint64_t writtenSeq) noexcept {
  written_.store(writtenSeq, std::memory_order_release);
  int32_t expected = static_cast<int32_t>(WriterState::kNone);
  const bool claimed = writerState_.compare_exchange_strong(expected, static_cast<int32_t>(WriterState::kLive), std::memory_order_acq_rel);
  return claimed ? CoreStatus::kOk : CoreStatus::kWriterTaken;
}

void RegistrarCore::NoteWritten(uint64_t seq) noexcept {
  uint64_t current = written_.load(std::memory_order_relaxed);
  while (current < seq && !written_.compare_exchange_weak(current, seq, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

uint64_t RegistrarCore::CloseWriter() noexcept {
  for (;;) {
    const Decision fence = Run(Request{}, EntryKind::kWriterClosed);
    if (fence.refused != Refusal::kBackpressure) return fence.seq;  // 0: no live writer
    // Even the headroom is used up: only a writer that stops without draining gets here. Its
    // undrained seqs are given up so the fence can be journaled.
    NoteWritten(claimed_.load(std::memory_order_acquire));
  }
}

bool RegistrarCore::PostBody(uint64_t seq, uint32_t decider, const char* text, size_t length) noexcept {
  JournalEntry entry;
  if (decider == 0 || seq == 0 || journal_->Read(seq, &entry, nullptr) != SlotRead::kOk) return false;
  if (!entry.request.postsBody || entry.request.decider != decider) return false;  // not this caller's seq
  return bodies_->Post(seq, text, length);
}

BodyTake RegistrarCore::TakeBody(uint64_t seq, std::string* out, bool abandon) noexcept {
  JournalEntry entry;
  const SlotRead read = journal_->Read(seq, &entry, nullptr);
  if (read == SlotRead::kNotYet) return BodyTake::kNotYet;
  // Overwritten: the writer fell a journal length behind (only before it claimed the role): no body.
  if (read == SlotRead::kOverwritten || !entry.request.postsBody) return BodyTake::kNone;
  return bodies_->Take(seq, out, abandon);
}

bool RegistrarCore::SetShareInfo(const std::string& info) {
  std::lock_guard<std::mutex> guard(shareInfoLock_);
  if (!shareInfo_.empty()) return false;
  shareInfo_ = info;
  return true;
}

bool RegistrarCore::ShareInfo(std::string* info) const {
  std::lock_guard<std::mutex> guard(shareInfoLock_);
  if (shareInfo_.empty()) return false;
  *info = shareInfo_;
  return true;
}

Decision RegistrarCore::Run(const Request& request, EntryKind kind) noexcept {
  Decision decision;
  Effects effects;
  const bool special = kind == EntryKind::kReserved || kind == EntryKind::kHalt || kind == EntryKind::kWriterClosed;
  // Halts and the close fence happen at most once each: they may use the writer's headroom.
  const bool exempt = kind == EntryKind::kHalt || kind == EntryKind::kWriterClosed;
  for (int attempt = 0;; ++attempt) {
    uint64_t claimed = claimed_.load(std::memory_order_acquire);
    const uint64_t applied = applied_.load(std::memory_order_acquire);
    if (applied != claimed) {
      HelpApply(applied + 1);
      Backoff(attempt);
      continue;
    }
    const uint64_t seq = claimed + 1;
    decision = Decision{};
    effects = Effects{};
    // The log writer (see the header), read as state of seq - 1 like everything Compute reads:
    // a request that would outrun it, or come after its close fence, is refused before deciding.
    const int32_t writer = writerState_.load(std::memory_order_acquire);
    if (writer == static_cast<int32_t>(WriterState::kClosed)) {
      decision.refused = Refusal::kWriterGone;
      return decision;
    }
    if (writer == static_cast<int32_t>(WriterState::kLive) &&
        seq > written_.load(std::memory_order_acquire) + journal_->Capacity() - (exempt ? 0 : kWriterHeadroom)) {
      decision.refused = Refusal::kBackpressure;
      return decision;
    }
    if ((kind == EntryKind::kHalt && halted_.load(std::memory_order_acquire)) ||
        (kind == EntryKind::kWriterClosed && writer != static_cast<int32_t>(WriterState::kLive))) {
      return decision;  // seq 0: already halted, or no writer to close
    }
    if (special) {
      decision.seq = seq;
      if (kind == EntryKind::kReserved) decision.reason = static_cast<int32_t>(Reason::kInvalidRequest);
      if (kind == EntryKind::kHalt) {
        decision.reason = static_cast<int32_t>(Reason::kRegistrarHalted);
        effects.halt = true;
        effects.haltCause = request.haltCause;
      }
      effects.closeWriter = kind == EntryKind::kWriterClosed;
    }
    const bool mint = !special && Compute(request, seq, kind == EntryKind::kDecide, &decision, &effects);
    // Valid as of `claimed` (no sweep can run before our claim); nothing decided, no seq consumed.
    if (decision.stale || decision.refused != Refusal::kNone) return decision;
    if (!claimed_.compare_exchange_strong(claimed, seq, std::memory_order_acq_rel, std::memory_order_acquire)) {
      Backoff(attempt);
      continue;
    }
    if (mint) {
      // The one lock a decision can take: a creating request with no target names its stream
      // "stream-<seq>" (with ' appended while taken), interned only now that the seq is ours.
      const uint64_t quarantine = journal_->Capacity();
      const int32_t minted = streamIds_.InternReusing(
          "stream-" + std::to_string(seq), true,
          [this](int32_t size) { return size <= options_.streamCapacity && streams_.Grow(size); },
          seq > quarantine ? seq - quarantine : 0,
          [this, seq](int32_t id) { streams_.At(id).touch.store(seq, std::memory_order_release); });
      if (minted < 0) {
        decision.allowed = false;
        decision.violations = 0;
        decision.reason = static_cast<int32_t>(decision.reason == static_cast<int32_t>(Reason::kRegistrarHalted)
                                                   ? Reason::kRegistrarHalted
                                                   : Reason::kCapacityExhausted);
        decision.stream = kNoId;
        decision.stateAfter = decision.stateBefore;
        decision.version = 0;
        decision.ownerAfter = kNoId;
        effects = Effects{};
      } else {
        decision.stream = minted;
        if (effects.newMeta != 0) effects.stream = minted;
        if (effects.facadeKind == Effects::kFacadeGrants) effects.facadeSlot = minted;
      }
    }
    JournalEntry entry;
    entry.decision = decision;
    entry.kind = static_cast<int32_t>(kind);
    if (!special) {
      entry.actor = request.actor;
      entry.actorKind = request.actorKind;
      entry.action = request.action;
      entry.target = request.stream;
      entry.request = request;
    } else {
      entry.actorKind = -1;
      entry.action = -1;
      entry.request.decider = request.decider;
      entry.request.postsBody = request.postsBody;
      entry.request.haltCause = request.haltCause;
    }
    entry.monotonicNs = MonotonicNs();
    if (!special) {
      // Before the publication, so a later compaction sweep sees that these ids were just named.
      for (const int32_t id : {request.stream, request.preemptFor}) {
        if (id < 0 || id >= streams_.Size()) continue;
        std::atomic<uint64_t>& touch = streams_.At(id).touch;
        uint64_t current = touch.load(std::memory_order_relaxed);
        while ((current & kFreeBit) == 0 && current < seq &&
               !touch.compare_exchange_weak(current, seq, std::memory_order_release, std::memory_order_relaxed)) {
        }
      }
    }
    journal_->Publish(seq, entry, effects);
    HelpApply(seq);
    return decision;
  }
}

uint64_t RegistrarCore::EnterHelp() const noexcept {
  for (;;) {
    const uint64_t generation = helperGeneration_.load(std::memory_order_seq_cst);
    helpersIn_[generation & 1].fetch_add(1, std::memory_order_seq_cst);
    // Re-checked so that a sweeper that flipped the generation meanwhile either sees us counted
    // in the old one (and waits for us) or we count ourselves in the new one.
    if (helperGeneration_.load(std::memory_order_seq_cst) == generation) return generation;
    helpersIn_[generation & 1].fetch_sub(1, std::memory_order_seq_cst);
  }
}

void RegistrarCore::ExitHelp(uint64_t generation) const noexcept {
  helpersIn_[generation & 1].fetch_sub(1, std::memory_order_seq_cst);
}

void RegistrarCore::HelpApply(uint64_t seq) const noexcept {
  Effects effects;
  // With compaction, a helper counts itself in (see the header): the sweep waits for every helper
  // that entered before it, so no helper applies an old seq's effects to a slot the sweep reset.
  const bool compacting = options_.compactionPeriod != 0;
  const uint64_t generation = compacting ? EnterHelp() : 0;
  for (int attempt = 0;; ++attempt) {
    const bool pending = applied_.load(std::memory_order_acquire) < seq && claimed_.load(std::memory_order_acquire) >= seq;
    const SlotRead read = pending ? journal_->Read(seq, nullptr, &effects) : SlotRead::kOverwritten;
    if (read == SlotRead::kOk) break;
    if (read == SlotRead::kOverwritten) {  // applied already (a slot is overwritten only after its seq was applied)
      if (compacting) ExitHelp(generation);
      return;
    }
    Backoff(attempt);  // the claimer is still copying its entry
  }
  // Every CAS below can succeed only once: each new value carries a monotonic field.
  if (effects.stream != kNoId) {
    StreamSlot& slot = streams_.At(effects.stream);
    if (effects.newMeta != 0) {
      uint64_t expected = 0;
      slot.meta.compare_exchange_strong(expected, effects.newMeta, std::memory_order_acq_rel);
      // A stream created with a userId makes that user a member of its session (§1). Adding
      // it twice (two helpers) changes nothing.
      if (MetaUser(effects.newMeta) != kNoId) memberships_.Add(MetaUser(effects.newMeta), MetaSession(effects.newMeta), kMemberStream);
    }
    uint64_t expectedAux = effects.oldAux;
    slot.aux.compare_exchange_strong(expectedAux, effects.newAux, std::memory_order_acq_rel);
    uint64_t expectedWord = effects.oldWord;
    slot.word.compare_exchange_strong(expectedWord, effects.newWord, std::memory_order_acq_rel);
  }
  if (effects.overrideScopeId != kNoId) {
    OverrideSlot* slot = OverrideFor(effects.overrideSpace, effects.overrideScopeId);
    uint64_t expected = effects.oldOverride;
    if (slot != nullptr) slot->word.compare_exchange_strong(expected, effects.newOverride, std::memory_order_acq_rel);
  }
  if (effects.facadeKind == Effects::kFacadeGrants && effects.facadeSlot >= 0 && effects.facadeSlot < streams_.Size()) {
    uint64_t expected = effects.oldFacade;
    streams_.At(effects.facadeSlot).grants.compare_exchange_strong(expected, effects.newFacade, std::memory_order_acq_rel);
  } else if (effects.facadeKind == Effects::kFacadeValues) {
    OverrideSlot* slot = OverrideFor(effects.facadeSpace, effects.facadeSlot);
    uint64_t expected = effects.oldFacade;
    if (slot != nullptr) slot->values.compare_exchange_strong(expected, effects.newFacade, std::memory_order_acq_rel);
  }
  if (effects.halt) {
    // Cause and seq before the flag: whoever sees halted_ sees why (one halt per core: after it
    // every request is denied, and Halt refuses).
    haltCause_.store(effects.haltCause, std::memory_order_relaxed);
    haltSeq_.store(seq, std::memory_order_relaxed);
    halted_.store(true, std::memory_order_release);
  }
  if (effects.closeWriter) writerState_.store(static_cast<int32_t>(WriterState::kClosed), std::memory_order_release);
  if (compacting) {
    ExitHelp(generation);
    if (seq % options_.compactionPeriod == 0) Compact(seq);
  }
  uint64_t previous = seq - 1;
  applied_.compare_exchange_strong(previous, seq, std::memory_order_acq_rel);
}

void RegistrarCore::Compact(uint64_t seq) const noexcept {
  uint64_t taken = sweepTaken_.load(std::memory_order_acquire);
  while (taken < seq) {
    if (sweepTaken_.compare_exchange_weak(taken, seq, std::memory_order_acq_rel, std::memory_order_acquire)) {
      // Drain: every helper that entered before this flip (possibly holding an old seq's effects)
      // leaves before any slot is reset; helpers entering after it see seq's state applied.
      const uint64_t old = helperGeneration_.fetch_add(1, std::memory_order_seq_cst);
      for (int attempt = 0; helpersIn_[old & 1].load(std::memory_order_seq_cst) != 0; ++attempt) Backoff(attempt);
      uint32_t removed = 0;
      streamIds_.Locked([this, seq, &removed](Interner& ids) { removed = SweepLocked(ids, seq); });
      sweeps_[(seq / options_.compactionPeriod) % sweepSlots_].store(((seq & kSeqMask) << 24) | (removed & 0xFFFFFF),
                                                                     std::memory_order_release);
      sweepDone_.store(seq, std::memory_order_release);
      return;
    }
  }
  // Another applier of this seq sweeps: applied_ must not pass seq before it is done.
  for (int attempt = 0; sweepDone_.load(std::memory_order_acquire) < seq; ++attempt) Backoff(attempt);
}

uint32_t RegistrarCore::SweepLocked(Interner& ids, uint64_t seq) const noexcept {
  const uint64_t retain = options_.compactionRetain;
  bool freedAny = false;
  uint32_t removed = 0;
  const int32_t size = ids.SizeLocked();
  for (int32_t id = 0; id < size; ++id) {
    if (!ids.LiveLocked(id)) continue;
    StreamSlot& slot = streams_.At(id);
    const uint64_t word = slot.word.load(std::memory_order_acquire);
    if (word & kExistsBit) {
      const int32_t state = WordState(word);
      const bool terminal = state == static_cast<int32_t>(StreamState::kStopped) ||
                            state == static_cast<int32_t>(StreamState::kFailed);
      if (!terminal || AuxLastSeq(slot.aux.load(std::memory_order_acquire)) + retain > seq) continue;
      // Compacted: the stream no longer exists (the rule; replay removes it at the same seq).
      slot.word.store(0, std::memory_order_release);
      slot.aux.store(0, std::memory_order_release);
      slot.meta.store(0, std::memory_order_release);
      slot.grants.store(0, std::memory_order_release);
      ++removed;
    }
    // No stream: free the id once no request named it for `retain` seqs (bookkeeping only).
    if ((slot.touch.load(std::memory_order_acquire) & ~kFreeBit) + retain > seq) continue;
    slot.aux.store(0, std::memory_order_relaxed);
    slot.meta.store(0, std::memory_order_relaxed);
    slot.touch.store(kFreeBit | seq, std::memory_order_release);
    ids.FreeLocked(id, seq);
    freedAny = true;
  }
  if (freedAny) freeEpoch_.fetch_add(1, std::memory_order_acq_rel);
  return removed;
}

bool RegistrarCore::SweptAt(uint64_t seq, uint32_t* removed) const noexcept {
  const uint64_t period = options_.compactionPeriod;
  if (period == 0 || seq == 0 || seq % period != 0 || seq > kSeqMask) return false;
  // The count is final once seq is applied (applied_ passes a point only after its sweep).
  for (int attempt = 0;; ++attempt) {
    const uint64_t applied = applied_.load(std::memory_order_acquire);
    if (applied >= seq) break;
    if (claimed_.load(std::memory_order_acquire) < seq) return false;
    HelpApply(applied + 1);
    Backoff(attempt);
  }
  const uint64_t word = sweeps_[(seq / period) % sweepSlots_].load(std::memory_order_acquire);
  if ((word >> 24) != seq) return false;  // overwritten by a later point, or from before a Load
  *removed = static_cast<uint32_t>(word & 0xFFFFFF);
  return true;
}

RegistrarCore::WatchStatus RegistrarCore::WatchTarget(int32_t id, uint64_t playSeq, StreamWatchTarget* target) const noexcept {
  if (id < 0 || id >= streams_.Size()) return WatchStatus::kNoSlot;
  const StreamSlot& slot = streams_.At(id);
  // The word first, then aux: a decision stores its aux before its word (HelpApply) and decisions
  // apply in seq order, so the aux read here is that of the word's decision or a later one. If it
  // still names `playSeq`, the word is the one that play wrote, and its version is the play's.
  const uint64_t word = slot.word.load(std::memory_order_acquire);
  const uint64_t aux = slot.aux.load(std::memory_order_acquire);
  if (!(word & kExistsBit) || AuxLastSeq(aux) != playSeq) return WatchStatus::kSuperseded;
  target->word = &slot.word;
  target->halted = &halted_;
  target->version = WordVersion(word);
  return WatchStatus::kOk;
}

bool RegistrarCore::ReadStream(int32_t id, StreamView* view) const noexcept {
  const StreamSlot& slot = streams_.At(id);
  const uint64_t word = slot.word.load(std::memory_order_acquire);
  if (!(word & kExistsBit)) return false;
  const uint64_t aux = slot.aux.load(std::memory_order_acquire);
  const uint64_t meta = slot.meta.load(std::memory_order_acquire);
  view->stream = id;
  view->state = WordState(word);
  view->owner = WordOwner(word);
  view->committed = WordCommitted(word);
  view->version = WordVersion(word);
  view->lastSeq = AuxLastSeq(aux);
  view->graphRevision = AuxGraph(aux);
  view->priority = MetaPriority(meta);
  view->session = MetaSession(meta);
  view->user = MetaUser(meta);
  view->grants = OverrideOwner(slot.grants.load(std::memory_order_acquire));
  return true;
}

bool RegistrarCore::Stream(int32_t id, StreamView* view) const noexcept {
  if (id < 0 || id >= streams_.Size()) return false;
  // Seqlock over the sequencer: a read is consistent when no seq was claimed while it ran.
  for (int attempt = 0;; ++attempt) {
    const uint64_t claimed = claimed_.load(std::memory_order_acquire);
    const uint64_t applied = applied_.load(std::memory_order_acquire);
    if (applied != claimed) {
      HelpApply(applied + 1);
      continue;
    }
    const bool found = ReadStream(id, view);
    if (claimed_.load(std::memory_order_acquire) == claimed) return found;
    Backoff(attempt);
  }
}

std::vector<OverrideView> RegistrarCore::Overrides() const {
  // In enable order: each active override's word carries the seq that enabled it.
  std::vector<std::pair<uint64_t, OverrideView>> active;
  for (int32_t space = 0; space < 2; ++space) {
    const int32_t size = overrides_[space].Size();
    for (int32_t id = 0; id < size; ++id) {
      const OverrideSlot& slot = overrides_[space].At(id);
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      if (OverrideOwner(word) == kNoId) continue;
      active.push_back({word >> 24, OverrideView{OverrideOwner(word), space, id, OverrideOwner(slot.values.load(std::memory_order_acquire))}});
    }
  }
  std::stable_sort(active.begin(), active.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<OverrideView> result;
  result.reserve(active.size());
  for (const auto& entry : active) result.push_back(entry.second);
  return result;
}

Image RegistrarCore::TakeImage() const {
  for (int attempt = 0;; ++attempt) {
    const uint64_t claimed = claimed_.load(std::memory_order_acquire);
    const uint64_t applied = applied_.load(std::memory_order_acquire);
    if (applied != claimed) {
      HelpApply(applied + 1);
      continue;
    }
    Image image;
    image.lastSeq = claimed;
    image.halted = halted_.load(std::memory_order_acquire);
    const int32_t size = streams_.Size();
    for (int32_t id = 0; id < size; ++id) {
      StreamView view;
      if (ReadStream(id, &view)) image.streams.push_back(view);
    }
    image.overrides = Overrides();
    image.memberships = memberships_.List();
    if (claimed_.load(std::memory_order_acquire) == claimed) return image;
    Backoff(attempt);
  }
}

CoreStatus RegistrarCore::Load(const Image& image) {
  const int32_t streamCount = streams_.Size();
  const int32_t grantSets = scopeIds_[2].Count();
  const int32_t valueSets = scopeIds_[3].Count();
  for (const StreamView& view : image.streams) {
    const bool valid =
        view.stream >= 0 && view.stream < streamCount && !Freed(view.stream) && view.state >= 0 &&
        view.state < static_cast<int32_t>(StreamState::kCount) &&
        (view.owner == kNoId || (view.owner >= 0 && view.owner < actors_.Size())) &&
        (view.session == kNoId || (view.session >= 0 && view.session < overrides_[0].Size())) &&
        (view.user == kNoId || (view.user >= 0 && view.user < overrides_[1].Size())) &&
        view.priority >= 1 && view.priority <= 10 && view.version >= 1 && view.lastSeq <= image.lastSeq &&
        (view.grants == kNoId || (view.grants >= 0 && view.grants < grantSets));
    if (!valid) return CoreStatus::kInvalidImage;
  }
  for (const OverrideView& view : image.overrides) {
    if (OverrideFor(view.scope, view.scopeId) == nullptr || view.owner < 0 || view.owner >= actors_.Size() ||
        (view.values != kNoId && (view.values < 0 || view.values >= valueSets))) {
      return CoreStatus::kInvalidImage;
    }
  }
  for (const MembershipView& view : image.memberships) {
    if (OverrideFor(1, view.user) == nullptr || OverrideFor(0, view.session) == nullptr || (view.basis & kMemberAll) == 0 ||
        (view.basis & ~kMemberAll) != 0) {
      return CoreStatus::kInvalidImage;
    }
  }
  for (int32_t id = 0; id < streamCount; ++id) {
    StreamSlot& slot = streams_.At(id);
    slot.word.store(0, std::memory_order_relaxed);
    slot.aux.store(0, std::memory_order_relaxed);
    slot.meta.store(0, std::memory_order_relaxed);
    slot.grants.store(0, std::memory_order_relaxed);
  }
  for (int32_t space = 0; space < 2; ++space) {
    for (int32_t id = 0; id < overrides_[space].Size(); ++id) {
      overrides_[space].At(id).word.store(0, std::memory_order_relaxed);
      overrides_[space].At(id).values.store(0, std::memory_order_relaxed);
    }
  }
  for (const StreamView& view : image.streams) {
    StreamSlot& slot = streams_.At(view.stream);
    slot.word.store(MakeWord(view.state, view.committed, view.owner, view.version), std::memory_order_relaxed);
    slot.aux.store(MakeAux(view.lastSeq, view.graphRevision), std::memory_order_relaxed);
    slot.meta.store(MakeMeta(view.priority, view.session, view.user), std::memory_order_relaxed);
    if (view.grants != kNoId) slot.grants.store(MakeOverride(view.grants, view.lastSeq), std::memory_order_relaxed);
  }
  // Enable order is kept by giving the loaded overrides increasing seqs (no later seq repeats one:
  // an image never holds more overrides than it has seqs).
  uint64_t order = 0;
  for (const OverrideView& view : image.overrides) {
    OverrideSlot* slot = OverrideFor(view.scope, view.scopeId);
    slot->word.store(MakeOverride(view.owner, ++order), std::memory_order_relaxed);
    if (view.values != kNoId) slot->values.store(MakeOverride(view.values, order), std::memory_order_relaxed);
  }
  memberships_.Clear();
  for (const MembershipView& view : image.memberships) memberships_.Add(view.user, view.session, view.basis);
  journal_->Clear();
  for (uint32_t slot = 0; slot < sweepSlots_; ++slot) sweeps_[slot].store(0, std::memory_order_relaxed);
  sweepTaken_.store(image.lastSeq, std::memory_order_relaxed);
  sweepDone_.store(image.lastSeq, std::memory_order_relaxed);
  // A halted image says nothing of why: the cause is unknown (kNone) and the seq 0.
  haltCause_.store(-1, std::memory_order_relaxed);
  haltSeq_.store(0, std::memory_order_relaxed);
  halted_.store(image.halted, std::memory_order_relaxed);
  applied_.store(image.lastSeq, std::memory_order_relaxed);
  claimed_.store(image.lastSeq, std::memory_order_release);
  return CoreStatus::kOk;
}

CoreStatus RegistrarCore::ReadJournal(uint64_t fromSeq, uint32_t maxEntries,
                                      std::vector<JournalEntry>* out) const {
  if (fromSeq == 0) fromSeq = 1;
  const uint64_t capacity = journal_->Capacity();
  for (uint64_t seq = fromSeq; out->size() < maxEntries;) {
    JournalEntry entry;
    const SlotRead read = journal_->Read(seq, &entry, nullptr);
    if (read == SlotRead::kNotYet) break;
    if (read == SlotRead::kOverwritten) {
      if (!out->empty()) break;  // overtaken mid-read: what we have is still gap-free
      // Like the reference core, start again at the oldest seq the ring still holds; the caller
      // sees a first seq above the one it asked for (its overrun signal).
      const uint64_t last = claimed_.load(std::memory_order_acquire);
      seq = std::max(seq + 1, last >= capacity ? last - capacity + 1 : 1);
      continue;
    }
    out->push_back(entry);
    ++seq;
  }
  return CoreStatus::kOk;
}

}  // namespace vs::registrar
