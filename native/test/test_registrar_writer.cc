// The core's log writer, bodies, halts and facade state (registrar_core.h, "One log writer, many
// deciders"; registrar_bodies.h). Single-threaded checks of each rule, then a race: deciders on
// several threads post a body (text derived from the seq) for each decision while one writer
// thread drains journal and bodies in seq order through a small ring. The writer must read every
// seq exactly once with its own text (no seq overwritten before it was drained: backpressure),
// and the text, a plain std::string, is handed over through the tag's release/acquire and the
// writer's NoteWritten, which ThreadSanitizer checks. Honours VS_TEST_SCALE.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "registrar_core.h"

using namespace vs::registrar;

namespace {

constexpr int32_t A(Action action) { return static_cast<int32_t>(action); }
constexpr uint32_t kCapacity = 1024;

struct Fixture {
  int32_t agent, other, user, plugin, session, stream;
};

Fixture Populate(RegistrarCore& core) {
  Fixture f{};
  f.agent = core.RegisterActor("agent:a", 1);
  f.other = core.RegisterActor("agent:b", 1);
  f.user = core.RegisterActor("user:u", 0);
  f.plugin = core.RegisterActor("plugin:p", 2);
  f.session = core.InternScope(0, "default");
  f.stream = core.InternStream("s");
  return f;
}

Request Make(const Fixture& f, Action action, int32_t actor, int32_t kind) {
  Request r;
  r.actor = actor;
  r.actorKind = kind;
  r.action = A(action);
  r.stream = f.stream;
  r.session = f.session;
  r.priority = 5;
  return r;
}

std::string BodyOf(uint64_t seq) { return "{\"seq\":" + std::to_string(seq) + ",\"text\":\"" + std::string(seq % 97, 'x') + "\"}"; }

void TestBackpressureAndFence() {
  RegistrarCore core(CoreOptions{kCapacity});
  const Fixture f = Populate(core);
  VS_CHECK(core.ClaimWriter(0) == CoreStatus::kOk);
  VS_CHECK(core.ClaimWriter(0) == CoreStatus::kWriterTaken);  // one writer per core
  const uint64_t bound = kCapacity - kWriterHeadroom;
  Refusal refused = Refusal::kNone;
  for (uint64_t seq = 1; seq <= bound; ++seq) VS_CHECK_EQ(core.ReserveSeq(&refused), seq);
  // A journal length ahead of the writer: refused before deciding, nothing consumed.
  VS_CHECK_EQ(core.ReserveSeq(&refused), 0);
  VS_CHECK(refused == Refusal::kBackpressure);
  const Decision blocked = core.Decide(Make(f, Action::kStart, f.agent, 1));
  VS_CHECK(blocked.refused == Refusal::kBackpressure);
  VS_CHECK_EQ(blocked.seq, 0);
  VS_CHECK_EQ(core.LastSeq(), bound);
  // A halt may use the headroom (it happens once).
  const uint64_t halt = core.Halt(static_cast<int32_t>(HaltCause::kStructural), 0, false, &refused);
  VS_CHECK_EQ(halt, bound + 1);
  VS_CHECK(core.Halted());
  VS_CHECK_EQ(core.HaltCauseOf(), static_cast<int32_t>(HaltCause::kStructural));
  VS_CHECK_EQ(core.HaltSeq(), bound + 1);
  VS_CHECK_EQ(core.Halt(static_cast<int32_t>(HaltCause::kAttestationIo)), 0);  // halted once
  // The writer drains: deciding goes on (denied registrar_halted after the halt).
  core.NoteWritten(bound + 1);
  core.NoteWritten(5);  // monotonic: a lower value changes nothing
  VS_CHECK_EQ(core.WrittenSeq(), bound + 1);
  const Decision after = core.Decide(Make(f, Action::kStart, f.agent, 1));
  VS_CHECK_EQ(after.seq, bound + 2);
  VS_CHECK_EQ(after.reason, static_cast<int32_t>(Reason::kRegistrarHalted));
  // The close fence: one seq, then every request is refused.
  const uint64_t fence = core.CloseWriter();
  VS_CHECK_EQ(fence, bound + 3);
  VS_CHECK(core.Decide(Make(f, Action::kStart, f.agent, 1)).refused == Refusal::kWriterGone);
  VS_CHECK_EQ(core.ReserveSeq(&refused), 0);
  VS_CHECK(refused == Refusal::kWriterGone);
  VS_CHECK_EQ(core.CloseWriter(), 0);
  VS_CHECK_EQ(core.LastSeq(), fence);
  std::vector<JournalEntry> entries;
  (void)core.ReadJournal(fence, 1, &entries);
  VS_CHECK(entries.size() == 1 && entries[0].kind == static_cast<int32_t>(EntryKind::kWriterClosed));
}

void TestHaltCausesAndNoWriter() {
  RegistrarCore core(CoreOptions{kCapacity});
  const Fixture f = Populate(core);
  // Without a writer there is no backpressure: the ring overwrites (what a writer prevents).
  for (uint32_t index = 0; index < 3 * kCapacity; ++index) VS_CHECK(core.ReserveSeq() != 0);
  VS_CHECK_EQ(core.CloseWriter(), 0);  // no writer to close
  VS_CHECK_EQ(core.Halt(static_cast<int32_t>(HaltCause::kAccessibilityBypass)), 0);  // only a decision trips that
  VS_CHECK_EQ(core.Halt(99), 0);
  VS_CHECK(!core.Halted());
  const uint64_t seq = core.Halt(static_cast<int32_t>(HaltCause::kJournalOverrun));
  VS_CHECK(seq != 0 && core.Halted());
  std::vector<JournalEntry> entries;
  (void)core.ReadJournal(seq, 1, &entries);
  VS_CHECK(entries.size() == 1 && entries[0].kind == static_cast<int32_t>(EntryKind::kHalt));
  VS_CHECK_EQ(entries[0].request.haltCause, static_cast<int32_t>(HaltCause::kJournalOverrun));
  VS_CHECK_EQ(core.Decide(Make(f, Action::kStart, f.agent, 1)).reason, static_cast<int32_t>(Reason::kRegistrarHalted));
}

void TestFacadeState() {
  RegistrarCore core(CoreOptions{kCapacity});
  const Fixture f = Populate(core);
  const int32_t granted = core.InternScope(2, "[\"plugin:p\"]");
  const int32_t slow = core.InternScope(3, "{\"speechRate\":0.7}");
  const int32_t captions = core.InternScope(3, "{\"forcedCaptions\":true,\"speechRate\":0.7}");
  VS_CHECK(granted >= 0 && slow >= 0 && captions >= 0);
  std::string text;
  VS_CHECK(core.ScopeKey(2, granted, &text) && text == "[\"plugin:p\"]");
  Request start = Make(f, Action::kStart, f.agent, 1);
  start.grants = granted;
  VS_CHECK(core.Decide(start).allowed);
  StreamView view;
  VS_CHECK(core.Stream(f.stream, &view) && view.grants == granted);
  // A plugin's mutation names the grants it was allowed by; changed meanwhile: retry, nothing consumed.
  Request mutate = Make(f, Action::kMutateGraph, f.plugin, 2);
  mutate.pluginAllowed = true;
  mutate.checkGrants = true;
  mutate.expectedGrants = kNoId;
  const uint64_t before = core.LastSeq();
  VS_CHECK(core.Decide(mutate).refused == Refusal::kRetry);
  VS_CHECK_EQ(core.LastSeq(), before);
  mutate.expectedGrants = granted;
  VS_CHECK(core.Decide(mutate).allowed);
  // A transfer drops the grants.
  Request transfer = Make(f, Action::kTransfer, f.agent, 1);
  transfer.newOwner = f.other;
  VS_CHECK(core.Decide(transfer).allowed);
  VS_CHECK(core.Stream(f.stream, &view) && view.grants == kNoId);
  // Override values: set by enable, replaced by update (merged by the caller), gone with disable.
  Request enable = Make(f, Action::kEnableOverride, f.user, 0);
  enable.overrideScope = 0;
  enable.overrideScopeId = f.session;
  enable.values = slow;
  // The session rule (spec 3.1): user:u enables a session override only in a session it belongs to.
  const int32_t userScope = core.InternScope(1, "u");
  enable.actorUser = userScope;
  VS_CHECK(core.DeclareMember(userScope, f.session, kMemberDeclared) == CoreStatus::kOk);
  VS_CHECK(core.Decide(enable).allowed);
  VS_CHECK(core.Overrides().size() == 1 && core.Overrides()[0].values == slow);
  Request update = enable;
  update.action = A(Action::kUpdateOverride);
  update.values = captions;
  update.checkValues = true;
  update.expectedValues = kNoId;
  VS_CHECK(core.Decide(update).refused == Refusal::kRetry);
  update.expectedValues = slow;
  VS_CHECK(core.Decide(update).allowed);
  VS_CHECK(core.Overrides()[0].values == captions);
  Image image = core.TakeImage();
  VS_CHECK(image.overrides.size() == 1 && image.overrides[0].values == captions);
  Request disable = enable;
  disable.action = A(Action::kDisableOverride);
  VS_CHECK(core.Decide(disable).allowed);
  VS_CHECK(core.Overrides().empty());
  // A fresh core loads what the image says (ids interned alike).
  RegistrarCore copy(CoreOptions{kCapacity});
  Populate(copy);
  copy.InternScope(1, "u");  // the image's membership names user u
  copy.InternScope(2, "[\"plugin:p\"]");
  copy.InternScope(3, "{\"speechRate\":0.7}");
  copy.InternScope(3, "{\"forcedCaptions\":true,\"speechRate\":0.7}");
  VS_CHECK(copy.Load(image) == CoreStatus::kOk);
  VS_CHECK(copy.Overrides().size() == 1 && copy.Overrides()[0].values == captions);
  image.overrides[0].values = 77;  // an id never interned
  RegistrarCore other(CoreOptions{kCapacity});
  Populate(other);
  VS_CHECK(other.Load(image) == CoreStatus::kInvalidImage);
}

void TestBodies() {
  RegistrarCore core(CoreOptions{kCapacity});
  const Fixture f = Populate(core);
  VS_CHECK(core.ClaimWriter(0) == CoreStatus::kOk);
  Request posting = Make(f, Action::kStart, f.agent, 1);
  posting.postsBody = true;
  posting.decider = 7;
  const uint64_t first = core.Decide(posting).seq;
  std::string out;
  VS_CHECK(core.TakeBody(first, &out, false) == BodyTake::kNotYet);
  VS_CHECK(!core.PostBody(first, 8, "x", 1));  // not its decider
  VS_CHECK(core.PostBody(first, 7, "first", 5));
  VS_CHECK(!core.PostBody(first, 7, "again", 5));  // once
  VS_CHECK(core.TakeBody(first, &out, false) == BodyTake::kOk && out == "first");
  // A decider that posts nothing: the writer writes that seq from the journal.
  const uint64_t silent = core.Decide(Make(f, Action::kCompile, f.agent, 1)).seq;
  VS_CHECK(core.TakeBody(silent, &out, false) == BodyTake::kNone);
  // A body that never comes is given up; a late post then fails.
  const uint64_t late = core.Decide(posting).seq;
  VS_CHECK(core.TakeBody(late, &out, true) == BodyTake::kAbandoned);
  VS_CHECK(!core.PostBody(late, 7, "late", 4));
  VS_CHECK(core.TakeBody(late, &out, false) == BodyTake::kAbandoned);
  VS_CHECK(core.TakeBody(late + 1, &out, false) == BodyTake::kNotYet);  // not decided yet
  VS_CHECK(!core.PostBody(late + 1, 7, "ahead", 5));
  VS_CHECK(core.SetShareInfo("info") && !core.SetShareInfo("other"));
  VS_CHECK(core.ShareInfo(&out) && out == "info");
}

/** Deciders on several threads post bodies; one writer drains them in order through a 1024 ring. */
void TestBodiesUnderRace() {
  RegistrarCore core(CoreOptions{kCapacity});
  const Fixture f = Populate(core);
  VS_CHECK(core.ClaimWriter(0) == CoreStatus::kOk);
  constexpr int kDeciders = 4;
  const int perDecider = std::max(2000, static_cast<int>(20000 * vs::test::Scale()));
  const uint64_t total = static_cast<uint64_t>(kDeciders) * perDecider;
  std::atomic<int> refusals{0};
  std::vector<std::thread> deciders;
  for (int index = 0; index < kDeciders; ++index) {
    deciders.emplace_back([&, index] {
      Request r = Make(f, Action::kCompile, f.agent, 1);  // denied or allowed, one seq each
      r.postsBody = true;
      r.decider = static_cast<uint32_t>(index + 1);
      for (int made = 0; made < perDecider;) {
        const Decision d = core.Decide(r);
        if (d.refused == Refusal::kBackpressure) {
          refusals.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
          continue;
        }
        const std::string body = BodyOf(d.seq);
        if (!core.PostBody(d.seq, r.decider, body.data(), body.size())) {
          std::fprintf(stderr, "post of seq %llu refused\n", static_cast<unsigned long long>(d.seq));
          std::abort();
        }
        ++made;
      }
    });
  }
  uint64_t wrong = 0;
  std::thread writer([&] {
    std::string out;
    // The writer starts draining once the ring has filled and a decider was refused (or the
    // deciders ran past the ring without one, which the check below reports): whether they had to
    // wait must not depend on how the threads were scheduled (under TSan the writer could keep up).
    while (refusals.load() == 0 && core.LastSeq() <= static_cast<uint64_t>(kCapacity) + kDeciders) std::this_thread::yield();
    for (uint64_t seq = 1; seq <= total;) {
      const BodyTake taken = core.TakeBody(seq, &out, false);
      if (taken == BodyTake::kNotYet) {
        std::this_thread::yield();
        continue;
      }
      if (taken != BodyTake::kOk || out != BodyOf(seq)) ++wrong;
      if (seq % 64 == 0 || seq == total) core.NoteWritten(seq);  // drained in batches, like the writer
      ++seq;
    }
  });
  for (std::thread& decider : deciders) decider.join();
  writer.join();
  VS_CHECK_EQ(wrong, 0);
  VS_CHECK_EQ(core.LastSeq(), total);
  VS_CHECK(refusals.load() > 0);  // a full ring held the deciders back until the writer drained it
}

}  // namespace

int main() {
  TestBackpressureAndFence();
  TestHaltCausesAndNoWriter();
  TestFacadeState();
  TestBodies();
  TestBodiesUnderRace();
  return VS_TEST_RESULT("test_registrar_writer");
}
