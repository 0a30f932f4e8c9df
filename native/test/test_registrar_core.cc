// Rules of the registrar decision core: the §2 transition table, §3 authority, §4 invariants
// (all violations reported, reason = first), override supremacy and HALT (only a registered user
// who may enable there), session membership, journal, image/load.
#include <string>
#include <vector>

#include "check.h"
#include "registrar_core.h"

using namespace vs::registrar;

namespace {

constexpr int32_t A(Action action) { return static_cast<int32_t>(action); }
constexpr int32_t S(StreamState state) { return static_cast<int32_t>(state); }
constexpr int32_t R(Reason reason) { return static_cast<int32_t>(reason); }
constexpr int32_t K(ActorKind kind) { return static_cast<int32_t>(kind); }

struct Fixture {
  RegistrarCore core{1024};
  int32_t alice = core.RegisterActor("user:alice", K(ActorKind::kUser));
  int32_t bob = core.RegisterActor("user:bob", K(ActorKind::kUser));
  int32_t agent = core.RegisterActor("agent:claude-1", K(ActorKind::kAgent));
  int32_t agent2 = core.RegisterActor("agent:other", K(ActorKind::kAgent));
  int32_t plugin = core.RegisterActor("plugin:fx", K(ActorKind::kPlugin));
  int32_t system = core.RegisterActor("system:runtime", K(ActorKind::kSystem));
  int32_t session = core.InternScope(0, "default");
  int32_t user = core.InternScope(1, "alice");
  int32_t bobUser = core.InternScope(1, "bob");

  Request Make(int32_t actor, ActorKind kind, Action action, int32_t stream) const {
    Request request;
    request.actor = actor;
    request.actorKind = K(kind);
    request.action = A(action);
    request.stream = stream;
    request.session = session;
    request.user = user;
    return request;
  }
  Decision Do(int32_t actor, ActorKind kind, Action action, int32_t stream) {
    return core.Decide(Make(actor, kind, action, stream));
  }
  /** A stream owned by `agent`, driven into `state`. */
  int32_t StreamIn(StreamState state, const std::string& key) {
    const int32_t id = core.InternStream(key);
    const auto agentDo = [&](Action action) {
      const Decision decision = Do(agent, ActorKind::kAgent, action, id);
      VS_CHECK(decision.allowed);
    };
    agentDo(Action::kClaim);
    switch (state) {
      case StreamState::kIdle: break;
      case StreamState::kCompiling: agentDo(Action::kStart); break;
      case StreamState::kSynthesizing: agentDo(Action::kStart); agentDo(Action::kSynthesize); break;
      case StreamState::kPlaying:
        agentDo(Action::kStart); agentDo(Action::kSynthesize); agentDo(Action::kPlay); break;
      case StreamState::kInterrupting:
        agentDo(Action::kStart); agentDo(Action::kSynthesize); agentDo(Action::kPlay); agentDo(Action::kInterrupt);
        break;
      case StreamState::kStopped:
        agentDo(Action::kStart); agentDo(Action::kSynthesize); agentDo(Action::kPlay); agentDo(Action::kStop); break;
      case StreamState::kFailed: agentDo(Action::kFail); break;
      default: break;
    }
    StreamView view;
    VS_CHECK(core.Stream(id, &view));
    VS_CHECK_EQ(view.state, S(state));
    return id;
  }
};

void TestTransitionTable() {
  // expected[action][state]: -1 denied (invalid_transition), else the state after.
  struct Row { Action action; int32_t to[7]; };
  const int32_t x = -1;
  const int32_t I = S(StreamState::kIdle), C = S(StreamState::kCompiling), Y = S(StreamState::kSynthesizing),
                P = S(StreamState::kPlaying), N = S(StreamState::kInterrupting), T = S(StreamState::kStopped),
                F = S(StreamState::kFailed);
  const Row rows[] = {
      {Action::kStart, {C, x, x, x, x, x, x}},
      {Action::kCompile, {x, C, x, x, x, x, x}},
      {Action::kSynthesize, {x, Y, x, x, x, x, x}},
      {Action::kPlay, {x, x, P, x, x, x, x}},
      {Action::kInterrupt, {x, x, x, N, x, x, x}},
      {Action::kStop, {x, x, x, T, T, x, x}},
      {Action::kFail, {F, F, F, F, F, x, x}},
      {Action::kRestart, {x, x, x, x, x, I, I}},
      {Action::kRelease, {I, x, x, x, x, T, F}},
      {Action::kMutateGraph, {x, C, x, x, x, x, x}},
      {Action::kCommit, {x, C, x, x, x, x, x}},
      {Action::kRollback, {x, C, x, x, x, x, x}},
  };
  int counter = 0;
  for (const Row& row : rows) {
    for (int32_t state = 0; state < 7; ++state) {
      Fixture f;
      const int32_t id = f.StreamIn(static_cast<StreamState>(state), "s" + std::to_string(counter++));
      const Decision decision = f.Do(f.agent, ActorKind::kAgent, row.action, id);
      const bool expectAllowed = row.to[state] != x;
      VS_CHECK_EQ(decision.allowed, expectAllowed);
      VS_CHECK_EQ(decision.stateBefore, state);
      if (expectAllowed) {
        VS_CHECK_EQ(decision.stateAfter, row.to[state]);
        VS_CHECK_EQ(decision.reason, -1);
      } else {
        VS_CHECK(decision.violations & Bit(Invariant::kValidTransition));
        VS_CHECK_EQ(decision.stateAfter, state);
      }
    }
  }
  // The spec's named denials.
  Fixture f;
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kPlay, f.StreamIn(StreamState::kIdle, "a")).reason,
              R(Reason::kInvalidTransition));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kInterrupt, f.StreamIn(StreamState::kStopped, "b")).reason,
              R(Reason::kTerminalState));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kPlay, f.StreamIn(StreamState::kFailed, "c")).reason,
              R(Reason::kInvalidTransition));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kStart, f.StreamIn(StreamState::kPlaying, "d")).reason,
              R(Reason::kInvalidTransition));
  // Transfer of a failed stream, and to an unregistered owner.
  Request transfer = f.Make(f.agent, ActorKind::kAgent, Action::kTransfer, f.StreamIn(StreamState::kFailed, "e"));
  transfer.newOwner = f.agent2;
  VS_CHECK_EQ(f.core.Decide(transfer).reason, R(Reason::kInvalidTransition));
  transfer.stream = f.StreamIn(StreamState::kPlaying, "g");
  transfer.newOwner = kNoId;
  VS_CHECK_EQ(f.core.Decide(transfer).reason, R(Reason::kInvalidTransition));
  transfer.newOwner = f.agent2;
  const Decision moved = f.core.Decide(transfer);
  VS_CHECK(moved.allowed);
  VS_CHECK_EQ(moved.ownerBefore, f.agent);
  VS_CHECK_EQ(moved.ownerAfter, f.agent2);
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kInterrupt, transfer.stream).reason, R(Reason::kNotOwner));
  VS_CHECK(f.Do(f.agent2, ActorKind::kAgent, Action::kInterrupt, transfer.stream).allowed);
}

void TestCreationVersionsAndLineage() {
  Fixture f;
  Request start = f.Make(f.agent, ActorKind::kAgent, Action::kStart, kNoId);
  start.priority = 10;
  const Decision created = f.core.Decide(start);
  VS_CHECK(created.allowed);
  VS_CHECK_EQ(created.seq, 1u);
  VS_CHECK_EQ(created.stateBefore, -1);
  VS_CHECK_EQ(created.stateAfter, S(StreamState::kCompiling));
  VS_CHECK_EQ(created.version, 1u);
  VS_CHECK_EQ(created.parentSeq, 0u);
  std::string key;
  VS_CHECK(f.core.StreamKey(created.stream, &key));
  VS_CHECK(key == "stream-1");
  const Decision compiled = f.Do(f.agent, ActorKind::kAgent, Action::kCompile, created.stream);
  VS_CHECK_EQ(compiled.version, 2u);
  VS_CHECK_EQ(compiled.parentSeq, 1u);
  const Decision denied = f.Do(f.agent2, ActorKind::kAgent, Action::kCompile, created.stream);
  VS_CHECK(!denied.allowed);
  VS_CHECK_EQ(denied.version, 2u);  // denials change nothing
  VS_CHECK_EQ(denied.parentSeq, 2u);
  StreamView view;
  VS_CHECK(f.core.Stream(created.stream, &view));
  VS_CHECK_EQ(view.version, 2u);
  VS_CHECK_EQ(view.lastSeq, 2u);
  VS_CHECK_EQ(view.graphRevision, 1u);
  VS_CHECK_EQ(view.priority, 10);
  VS_CHECK_EQ(view.owner, f.agent);
  VS_CHECK_EQ(view.session, f.session);
  VS_CHECK_EQ(view.user, f.user);
  // A minted name never reuses an interned key, and denied creations are named too.
  (void)f.core.InternStream("stream-5");
  Request unknownStart = f.Make(kNoId, ActorKind::kAgent, Action::kStart, kNoId);
  const Decision deniedCreate = f.core.Decide(unknownStart);  // seq 4
  VS_CHECK_EQ(deniedCreate.reason, R(Reason::kUnknownActor));
  VS_CHECK(f.core.StreamKey(deniedCreate.stream, &key));
  VS_CHECK(key == "stream-4");
  StreamView none;
  VS_CHECK(!f.core.Stream(deniedCreate.stream, &none));
  const Decision primed = f.core.Decide(start);  // seq 5
  VS_CHECK(f.core.StreamKey(primed.stream, &key));
  VS_CHECK(key == "stream-5'");
  VS_CHECK_EQ(f.core.StreamIdOf("stream-5'"), primed.stream);
  VS_CHECK_EQ(f.core.StreamIdOf("nope"), kNoId);
  // Bad priority on a creating request is invalid_request.
  start.priority = 11;
  VS_CHECK_EQ(f.core.Decide(start).reason, R(Reason::kInvalidRequest));
  Request bad = start;
  bad.action = 17;
  VS_CHECK_EQ(f.core.Decide(bad).reason, R(Reason::kInvalidRequest));
}

void TestAuthority() {
  Fixture f;
  const int32_t id = f.StreamIn(StreamState::kCompiling, "s");
  // Unknown actor: every violation is reported, reason is the first.
  Request unknown = f.Make(kNoId, ActorKind::kAgent, Action::kInterrupt, f.StreamIn(StreamState::kStopped, "t"));
  const Decision all = f.core.Decide(unknown);
  VS_CHECK_EQ(all.violations, Bit(Invariant::kActorRegistered) | Bit(Invariant::kRequiredForControl) |
                                  Bit(Invariant::kNoDeadInterrupt) | Bit(Invariant::kValidTransition));
  VS_CHECK_EQ(all.reason, R(Reason::kUnknownActor));
  // Non-owner agent.
  VS_CHECK_EQ(f.Do(f.agent2, ActorKind::kAgent, Action::kSynthesize, id).reason, R(Reason::kNotOwner));
  // System may synthesize, play, stop and fail for the owner, but not compile or interrupt.
  VS_CHECK_EQ(f.Do(f.system, ActorKind::kSystem, Action::kCompile, id).reason, R(Reason::kNotOwner));
  VS_CHECK(f.Do(f.system, ActorKind::kSystem, Action::kSynthesize, id).allowed);
  VS_CHECK(f.Do(f.system, ActorKind::kSystem, Action::kPlay, id).allowed);
  VS_CHECK_EQ(f.Do(f.system, ActorKind::kSystem, Action::kInterrupt, id).reason, R(Reason::kNotOwner));
  VS_CHECK(f.Do(f.system, ActorKind::kSystem, Action::kStop, id).allowed);
  // Claim of an owned stream; release then claim by another.
  VS_CHECK_EQ(f.Do(f.agent2, ActorKind::kAgent, Action::kClaim, id).reason, R(Reason::kAlreadyOwned));
  VS_CHECK(f.Do(f.agent, ActorKind::kAgent, Action::kRelease, id).allowed);
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kRestart, id).reason, R(Reason::kNotOwner));
  const Decision claimed = f.Do(f.agent2, ActorKind::kAgent, Action::kClaim, id);
  VS_CHECK(claimed.allowed);
  VS_CHECK_EQ(claimed.ownerBefore, kNoId);
  VS_CHECK_EQ(claimed.ownerAfter, f.agent2);
  // Plugins: graph mutation only when allowed and before commit; never lifecycle.
  const int32_t graph = f.StreamIn(StreamState::kCompiling, "graph");
  Request mutate = f.Make(f.plugin, ActorKind::kPlugin, Action::kMutateGraph, graph);
  VS_CHECK_EQ(f.core.Decide(mutate).reason, R(Reason::kNotOwner));
  mutate.pluginAllowed = true;
  VS_CHECK(f.core.Decide(mutate).allowed);
  const Decision pluginPlay = f.Do(f.plugin, ActorKind::kPlugin, Action::kSynthesize, graph);
  VS_CHECK_EQ(pluginPlay.violations, Bit(Invariant::kRequiredForControl) | Bit(Invariant::kPluginImmutability));
  VS_CHECK(f.Do(f.agent, ActorKind::kAgent, Action::kCommit, graph).allowed);
  const Decision late = f.core.Decide(mutate);
  VS_CHECK_EQ(late.violations, Bit(Invariant::kCommitBoundary) | Bit(Invariant::kPluginImmutability));
  VS_CHECK_EQ(late.reason, R(Reason::kCommitBoundary));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kCompile, graph).reason, R(Reason::kCommitBoundary));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kRollback, graph).reason, R(Reason::kCommitBoundary));
}

void TestPreemption() {
  Fixture f;
  Request high = f.Make(f.agent2, ActorKind::kAgent, Action::kStart, f.core.InternStream("high"));
  high.priority = 10;
  VS_CHECK(f.core.Decide(high).allowed);
  const int32_t low = f.StreamIn(StreamState::kPlaying, "low");  // priority 5
  Request preempt = f.Make(f.system, ActorKind::kSystem, Action::kInterrupt, low);
  preempt.preemptFor = high.stream;
  const Decision decision = f.core.Decide(preempt);
  VS_CHECK(decision.allowed);
  VS_CHECK(decision.preemption);
  // Not for an equal or lower priority stream.
  const int32_t other = f.StreamIn(StreamState::kPlaying, "other");
  preempt.stream = other;
  preempt.preemptFor = f.StreamIn(StreamState::kIdle, "peer");
  VS_CHECK_EQ(f.core.Decide(preempt).reason, R(Reason::kNotOwner));
}

void TestOverrideSupremacyAndHalt() {
  Fixture f;
  const int32_t id = f.StreamIn(StreamState::kPlaying, "s");
  Request enable = f.Make(f.alice, ActorKind::kUser, Action::kEnableOverride, kNoId);
  enable.overrideScope = 0;
  enable.overrideScopeId = f.session;
  enable.actorUser = f.user;  // alice is a member of "default": the fixture's streams have her userId
  // Only users enable.
  Request byAgent = enable;
  byAgent.actor = f.agent;
  byAgent.actorKind = K(ActorKind::kAgent);
  VS_CHECK_EQ(f.core.Decide(byAgent).reason, R(Reason::kAccessibilityOverride));
  const Decision enabled = f.core.Decide(enable);
  VS_CHECK(enabled.allowed);
  VS_CHECK(enabled.accessibility);
  VS_CHECK_EQ(enabled.stream, kNoId);
  VS_CHECK_EQ(f.core.Overrides().size(), 1u);
  // The owning agent may no longer interrupt, stop or transfer; system preemption yields too.
  const Decision interrupt = f.Do(f.agent, ActorKind::kAgent, Action::kInterrupt, id);
  VS_CHECK_EQ(interrupt.reason, R(Reason::kAccessibilityOverride));
  VS_CHECK(interrupt.accessibility);
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kStop, id).reason, R(Reason::kAccessibilityOverride));
  Request high = f.Make(f.agent2, ActorKind::kAgent, Action::kStart, f.core.InternStream("high"));
  high.priority = 10;
  VS_CHECK(f.core.Decide(high).allowed);
  Request preempt = f.Make(f.system, ActorKind::kSystem, Action::kInterrupt, id);
  preempt.preemptFor = high.stream;
  VS_CHECK_EQ(f.core.Decide(preempt).reason, R(Reason::kAccessibilityOverride));
  // Non-owners cannot update or disable it; the owner's own re-enable is refused without HALT.
  Request update = enable;
  update.action = A(Action::kUpdateOverride);
  update.actor = f.bob;
  VS_CHECK_EQ(f.core.Decide(update).reason, R(Reason::kAccessibilityOverride));
  update.actor = f.alice;
  VS_CHECK(f.core.Decide(update).allowed);
  const Decision again = f.core.Decide(enable);
  VS_CHECK_EQ(again.reason, R(Reason::kAccessibilityOverride));
  VS_CHECK(!again.halted);
  Request disable = enable;
  disable.action = A(Action::kDisableOverride);
  disable.actor = f.bob;
  VS_CHECK_EQ(f.core.Decide(disable).reason, R(Reason::kAccessibilityOverride));
  disable.actor = f.alice;
  VS_CHECK(f.core.Decide(disable).allowed);
  VS_CHECK_EQ(f.core.Decide(disable).reason, R(Reason::kInvalidTransition));  // none left
  // Removing it restores agent authority.
  VS_CHECK(f.Do(f.agent, ActorKind::kAgent, Action::kInterrupt, id).allowed);
  // A user-scoped override covers streams whose user is that user.
  Request byUser = enable;
  byUser.overrideScope = 1;
  byUser.overrideScopeId = f.user;
  VS_CHECK(f.core.Decide(byUser).allowed);
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kStop, id).reason, R(Reason::kAccessibilityOverride));
  // The override's owner may act on what the override guards, though she does not own the stream.
  VS_CHECK_EQ(f.Do(f.bob, ActorKind::kUser, Action::kStop, id).reason, R(Reason::kNotOwner));
  const Decision stoppedByUser = f.Do(f.alice, ActorKind::kUser, Action::kStop, id);
  VS_CHECK(stoppedByUser.allowed);
  VS_CHECK(stoppedByUser.accessibility);
  VS_CHECK_EQ(stoppedByUser.stateAfter, S(StreamState::kStopped));
  // Bob may not enable an override for alice's user scope: not_owner, and no HALT.
  Request takeover = byUser;
  takeover.actor = f.bob;
  takeover.actorUser = f.bobUser;
  const Decision notHis = f.core.Decide(takeover);
  VS_CHECK_EQ(notHis.reason, R(Reason::kNotOwner));
  VS_CHECK(!notHis.halted);
  // Over alice's session override: an agent, an unregistered actor and bob (not a member of
  // "default") are refused; none of them halts.
  VS_CHECK(f.core.Decide(enable).allowed);
  takeover = enable;
  takeover.actor = f.agent;
  takeover.actorKind = K(ActorKind::kAgent);
  takeover.actorUser = kNoId;
  VS_CHECK(!f.core.Decide(takeover).halted);
  takeover.actor = kNoId;
  VS_CHECK_EQ(f.core.Decide(takeover).reason, R(Reason::kUnknownActor));
  takeover.actorKind = K(ActorKind::kUser);
  takeover.actorUser = f.bobUser;
  const Decision ghost = f.core.Decide(takeover);
  VS_CHECK_EQ(ghost.reason, R(Reason::kUnknownActor));
  VS_CHECK(!ghost.halted);
  takeover.actor = f.bob;
  const Decision outsider = f.core.Decide(takeover);
  VS_CHECK_EQ(outsider.reason, R(Reason::kNotOwner));
  VS_CHECK(!outsider.halted);
  VS_CHECK(!f.core.Halted());
  // Once the host declares bob a member, his enabling over alice's override would end it
  // without disable_override: HALT.
  VS_CHECK(f.core.DeclareMember(f.bobUser, f.session, kMemberDeclared) == CoreStatus::kOk);
  VS_CHECK_EQ(f.core.Membership(f.bobUser, f.session), kMemberDeclared);
  const Decision halt = f.core.Decide(takeover);
  VS_CHECK(!halt.allowed);
  VS_CHECK(halt.halted);
  VS_CHECK_EQ(halt.reason, R(Reason::kAccessibilityOverride));
  VS_CHECK(f.core.Halted());
  const Decision after = f.Do(f.alice, ActorKind::kUser, Action::kDisableOverride, kNoId);
  VS_CHECK_EQ(after.reason, R(Reason::kRegistrarHalted));
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kStart, kNoId).reason, R(Reason::kRegistrarHalted));
}

/** Several overrides covering one stream, fail under an override, membership and its image. */
void TestCoveringOverridesAndMembership() {
  Fixture f;
  VS_CHECK_EQ(f.core.Membership(f.user, f.session), 0u);
  const int32_t id = f.StreamIn(StreamState::kPlaying, "s");  // claimed with user alice in "default"
  VS_CHECK_EQ(f.core.Membership(f.user, f.session), kMemberStream);
  VS_CHECK(f.core.DeclareMember(f.user, 999, kMemberDeclared) == CoreStatus::kUnknownId);
  VS_CHECK(f.core.DeclareMember(f.bobUser, f.session, 0) == CoreStatus::kUnknownId);
  VS_CHECK(f.core.DeclareMember(f.bobUser, f.session, kMemberDeclared) == CoreStatus::kOk);
  // Alice's user override and bob's session override both cover the stream.
  Request mine = f.Make(f.alice, ActorKind::kUser, Action::kEnableOverride, kNoId);
  mine.overrideScope = 1;
  mine.overrideScopeId = f.user;
  mine.actorUser = f.user;
  VS_CHECK(f.core.Decide(mine).allowed);
  Request his = f.Make(f.bob, ActorKind::kUser, Action::kEnableOverride, kNoId);
  his.overrideScope = 0;
  his.overrideScopeId = f.session;
  his.actorUser = f.bobUser;
  VS_CHECK(f.core.Decide(his).allowed);
  // Neither agents nor plugins may end it, by fail either; the system may fail it.
  VS_CHECK_EQ(f.Do(f.agent, ActorKind::kAgent, Action::kFail, id).reason, R(Reason::kAccessibilityOverride));
  const Decision byPlugin = f.Do(f.plugin, ActorKind::kPlugin, Action::kFail, id);
  VS_CHECK_EQ(byPlugin.reason, R(Reason::kNotOwner));
  VS_CHECK((byPlugin.violations & Bit(Invariant::kAccessibilitySupremacy)) != 0);
  // Each covering override's owner has the owner's power.
  VS_CHECK(f.Do(f.bob, ActorKind::kUser, Action::kInterrupt, id).allowed);
  VS_CHECK(f.Do(f.alice, ActorKind::kUser, Action::kStop, id).allowed);
  const int32_t other = f.StreamIn(StreamState::kPlaying, "t");
  VS_CHECK(f.Do(f.bob, ActorKind::kUser, Action::kFail, other).allowed);
  const int32_t third = f.StreamIn(StreamState::kPlaying, "u");
  const Decision byRuntime = f.Do(f.system, ActorKind::kSystem, Action::kFail, third);
  VS_CHECK(byRuntime.allowed);
  VS_CHECK(byRuntime.accessibility);
  // Memberships travel in the image.
  const Image image = f.core.TakeImage();
  VS_CHECK_EQ(image.memberships.size(), 2u);
  VS_CHECK_EQ(image.memberships[0].user, f.user);
  VS_CHECK_EQ(image.memberships[0].basis, kMemberStream);
  VS_CHECK_EQ(image.memberships[1].user, f.bobUser);
  VS_CHECK_EQ(image.memberships[1].basis, kMemberDeclared);
  Fixture g;
  for (const char* key : {"s", "t", "u"}) (void)g.core.InternStream(key);
  VS_CHECK(g.core.DeclareMember(g.bobUser, g.session, kMemberRecorded) == CoreStatus::kOk);
  VS_CHECK(g.core.Load(image) == CoreStatus::kOk);
  VS_CHECK_EQ(g.core.Membership(g.bobUser, g.session), kMemberDeclared);  // replaced, not merged
  VS_CHECK_EQ(g.core.Membership(g.user, g.session), kMemberStream);
  Image broken = image;
  broken.memberships[0].basis = 8;
  VS_CHECK(g.core.Load(broken) == CoreStatus::kInvalidImage);
  VS_CHECK_EQ(g.core.Membership(g.user, g.session), kMemberStream);  // nothing changed
}

void TestEvaluateJournalImage() {
  Fixture f;
  const int32_t id = f.StreamIn(StreamState::kPlaying, "s");  // seqs 1-4
  const Decision observed = f.core.Evaluate(f.Make(f.agent, ActorKind::kAgent, Action::kInterrupt, id));
  VS_CHECK(observed.allowed);
  VS_CHECK_EQ(observed.seq, 5u);
  StreamView view;
  VS_CHECK(f.core.Stream(id, &view));
  VS_CHECK_EQ(view.state, S(StreamState::kPlaying));  // shadow mode changed nothing
  VS_CHECK_EQ(f.core.ReserveSeq(), 6u);
  std::vector<JournalEntry> entries;
  VS_CHECK(f.core.ReadJournal(1, 100, &entries) == CoreStatus::kOk);
  VS_CHECK_EQ(entries.size(), 6u);
  for (size_t index = 0; index < entries.size(); ++index) {
    VS_CHECK_EQ(entries[index].decision.seq, index + 1);
  }
  VS_CHECK_EQ(entries[3].action, A(Action::kPlay));
  VS_CHECK_EQ(entries[3].request.session, f.session);
  VS_CHECK_EQ(entries[3].request.user, f.user);
  VS_CHECK_EQ(entries[3].request.stream, id);
  VS_CHECK_EQ(entries[5].action, -1);
  VS_CHECK_EQ(entries[3].decision.stateAfter, S(StreamState::kPlaying));
  VS_CHECK_EQ(entries[4].kind, 1);
  VS_CHECK_EQ(entries[5].kind, 2);
  VS_CHECK(entries[0].monotonicNs <= entries[5].monotonicNs);
  // Image / load round trip into a second core with the same interning.
  const Image image = f.core.TakeImage();
  VS_CHECK_EQ(image.lastSeq, 6u);
  Fixture g;
  VS_CHECK_EQ(g.core.InternStream("s"), id);
  VS_CHECK(g.core.Load(image) == CoreStatus::kOk);
  StreamView loaded;
  VS_CHECK(g.core.Stream(id, &loaded));
  VS_CHECK_EQ(loaded.version, view.version);
  VS_CHECK_EQ(loaded.lastSeq, view.lastSeq);
  VS_CHECK_EQ(g.Do(g.agent, ActorKind::kAgent, Action::kInterrupt, id).seq, 7u);
  Image broken = image;
  broken.streams[0].state = 9;
  VS_CHECK(g.core.Load(broken) == CoreStatus::kInvalidImage);
  // Overrun: a small ring forgets old entries and says so.
  RegistrarCore small(1024);
  for (int index = 0; index < 3000; ++index) (void)small.ReserveSeq();
  entries.clear();
  VS_CHECK(small.ReadJournal(1, 10, &entries) == CoreStatus::kOk);
  VS_CHECK_EQ(entries.size(), 10u);
  VS_CHECK_EQ(entries[0].decision.seq, 3000u - 1023u);  // the oldest seq still held
  entries.clear();
  VS_CHECK(small.ReadJournal(3000 - 1023, 2000, &entries) == CoreStatus::kOk);
  VS_CHECK_EQ(entries.size(), 1024u);
  VS_CHECK_EQ(entries.back().decision.seq, 3000u);
}

/** Compaction (removal at points, freeing, quarantine, reuse, epoch) and capacity denials. */
void TestCompactionAndCapacity() {
  CoreOptions options;
  options.journalCapacity = 1024;
  options.compactionPeriod = 8;
  options.compactionRetain = 4;
  options.streamCapacity = 4;
  RegistrarCore core(options);
  const int32_t agent = core.RegisterActor("agent:a", K(ActorKind::kAgent));
  const int32_t session = core.InternScope(0, "default");
  const auto make = [&](Action action, int32_t stream) {
    Request request;
    request.actor = agent;
    request.actorKind = K(ActorKind::kAgent);
    request.action = A(action);
    request.stream = stream;
    request.session = session;
    return request;
  };
  const int32_t a = core.InternStream("a");
  VS_CHECK(core.InternStream("b") >= 0 && core.InternStream("c") >= 0 && core.InternStream("d") >= 0);
  VS_CHECK_EQ(core.InternStream("e"), kFullId);  // full: answered, not thrown
  const Decision full = core.Decide(make(Action::kStart, kFullId));
  VS_CHECK(!full.allowed);
  VS_CHECK_EQ(full.reason, R(Reason::kCapacityExhausted));
  VS_CHECK_EQ(full.stream, kNoId);
  for (const Action action : {Action::kStart, Action::kSynthesize, Action::kPlay, Action::kStop}) {
    VS_CHECK(core.Decide(make(action, a)).allowed);
  }
  const uint64_t stoppedAt = core.LastSeq();
  StreamView view;
  VS_CHECK(core.Stream(a, &view));
  // Removed at the first point at least 4 seqs after its last transition; freed once untouched as long.
  while (core.LastSeq() < ((stoppedAt + 4 + 7) / 8) * 8) (void)core.ReserveSeq();
  VS_CHECK(!core.Stream(a, &view));
  VS_CHECK_EQ(core.FreeEpoch(), 2u);  // b, c, d (no stream, untouched) at seq 8, a at seq 16
  // Each sweep's count of removed streams (the registrar states it in the point's attestation).
  uint32_t removed = 99;
  VS_CHECK(core.SweptAt(8, &removed) && removed == 0u);  // b, c, d had no stream: freed, not removed
  VS_CHECK(core.SweptAt(16, &removed) && removed == 1u);  // a
  VS_CHECK(!core.SweptAt(12, &removed));                  // not a point
  VS_CHECK(!core.SweptAt(24, &removed));                  // not decided yet
  VS_CHECK(!core.SweptAt(0, &removed));
  VS_CHECK_EQ(core.StreamIdOf("a"), kNoId);
  std::string key;
  VS_CHECK(core.StreamKey(a, &key) && key == "a");  // a freed id keeps its key until reused
  // A request with ids cached before the sweep is stale (no seq consumed); unchecked, a freed id is invalid.
  Request cached = make(Action::kStart, a);
  cached.checkEpoch = true;
  cached.epoch = 0;
  const uint64_t before = core.LastSeq();
  VS_CHECK(core.Decide(cached).stale);
  VS_CHECK_EQ(core.LastSeq(), before);
  VS_CHECK_EQ(core.Decide(make(Action::kStart, a)).reason, R(Reason::kInvalidRequest));
  // Quarantine: the freed ids are not reused before one journal length of seqs.
  VS_CHECK_EQ(core.InternStream("e"), kFullId);
  for (int index = 0; index < 1024; ++index) (void)core.ReserveSeq();
  const int32_t e = core.InternStream("e");
  VS_CHECK(e >= 0 && e < 4);
  VS_CHECK(core.StreamKey(e, &key) && key == "e");
  VS_CHECK(core.Decide(make(Action::kStart, e)).allowed);
  VS_CHECK_EQ(core.LiveStreamIds(), 1);
  VS_CHECK_EQ(core.StreamTableSize(), 4);
  // The ring of counts spans two journal lengths of points: older points are forgotten, not misreported.
  const uint64_t remembered = (2 * (1024 / 8) + 2) * 8;
  while (core.LastSeq() < 2 * remembered) (void)core.ReserveSeq();
  const uint64_t lastPoint = (core.LastSeq() / 8) * 8;
  VS_CHECK(core.SweptAt(lastPoint, &removed));
  VS_CHECK(core.SweptAt(lastPoint - remembered + 8, &removed));
  VS_CHECK(!core.SweptAt(lastPoint - remembered, &removed));
  // Without a policy nothing is removed.
  RegistrarCore keeping(1024);
  const int32_t kept = keeping.InternStream("k");
  Request stop = make(Action::kClaim, kept);
  stop.actor = keeping.RegisterActor("agent:a", K(ActorKind::kAgent));
  stop.session = keeping.InternScope(0, "default");
  VS_CHECK(keeping.Decide(stop).allowed);
  stop.action = A(Action::kFail);
  VS_CHECK(keeping.Decide(stop).allowed);
  for (int index = 0; index < 3000; ++index) (void)keeping.ReserveSeq();
  VS_CHECK(keeping.Stream(kept, &view));
  VS_CHECK(!keeping.SweptAt(1024, &removed));  // no policy, no sweeps
}

}  // namespace

int main() {
  TestTransitionTable();
  TestCreationVersionsAndLineage();
  TestAuthority();
  TestPreemption();
  TestOverrideSupremacyAndHalt();
  TestCoveringOverridesAndMembership();
  TestEvaluateJournalImage();
  TestCompactionAndCapacity();
  return VS_TEST_RESULT("test_registrar_core");
}
