// 8 std::threads race start/claim/interrupt/transfer on shared streams of one core. Checks:
// exactly one winner per racing claim of a new stream, zero double winners overall, a gap-free
// and complete journal, and linearizability: re-deciding every request single-threaded in seq
// order on a fresh core gives the very same decisions; the same for session memberships added by
// creating decisions and read by enable_override while a host thread declares others. Runs under
// ThreadSanitizer.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "registrar_core.h"

using namespace vs::registrar;

namespace {

constexpr int kThreads = 8;
constexpr int32_t A(Action action) { return static_cast<int32_t>(action); }

struct Recorded {
  uint64_t seq;
  Request request;
  Decision decision;
};

/** Interns the same names in the same order, so ids match between cores. */
void Populate(RegistrarCore& core, int streams, std::vector<int32_t>* actors, std::vector<int32_t>* ids,
              int32_t* session) {
  for (int index = 0; index < kThreads; ++index) {
    actors->push_back(core.RegisterActor("agent:a" + std::to_string(index), 1));
  }
  actors->push_back(core.RegisterActor("system:runtime", 3));
  *session = core.InternScope(0, "default");
  for (int index = 0; index < streams; ++index) ids->push_back(core.InternStream("s" + std::to_string(index)));
}

bool SameDecision(const Decision& a, const Decision& b) {
  return a.allowed == b.allowed && a.violations == b.violations && a.reason == b.reason &&
         a.halted == b.halted && a.seq == b.seq && a.stream == b.stream && a.stateBefore == b.stateBefore &&
         a.stateAfter == b.stateAfter && a.version == b.version && a.parentSeq == b.parentSeq &&
         a.ownerBefore == b.ownerBefore && a.ownerAfter == b.ownerAfter && a.accessibility == b.accessibility &&
         a.preemption == b.preemption;
}

/** Round-based: all threads claim the same new stream at once; exactly one wins each round. */
void TestOneWinnerPerClaim() {
  const int rounds = std::max(20, static_cast<int>(400 * vs::test::Scale()));
  RegistrarCore core(1u << 16);
  std::vector<int32_t> actors, ids;
  int32_t session = kNoId;
  Populate(core, rounds, &actors, &ids, &session);
  std::atomic<int> arrived{0};
  std::vector<std::atomic<int>> winners(static_cast<size_t>(rounds));
  for (auto& count : winners) count.store(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        // Spin barrier so every thread hits the same stream together.
        arrived.fetch_add(1);
        while (arrived.load() < (round + 1) * kThreads) std::this_thread::yield();
        Request claim;
        claim.actor = actors[static_cast<size_t>(t)];
        claim.actorKind = 1;
        claim.action = A(Action::kClaim);
        claim.stream = ids[static_cast<size_t>(round)];
        claim.session = session;
        if (core.Decide(claim).allowed) winners[static_cast<size_t>(round)].fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int bad = 0;
  for (auto& count : winners) bad += count.load() == 1 ? 0 : 1;
  VS_CHECK_EQ(bad, 0);
  VS_CHECK_EQ(core.LastSeq(), static_cast<uint64_t>(rounds) * kThreads);
}

/** Free-running: random start/claim/interrupt/transfer/lifecycle on 4 shared streams. With a
 *  compaction policy, ended streams are removed (and re-created by start/claim) at the same seqs
 *  in the racing core and in the single-threaded replay. */
void TestRandomRaceLinearizable(CoreOptions options) {
  const int perThread = std::max(2000, static_cast<int>(40000 * vs::test::Scale()));
  const int streamCount = 4;
  options.journalCapacity = 1u << 20;
  RegistrarCore core(options);
  std::vector<int32_t> actors, ids;
  int32_t session = kNoId;
  Populate(core, streamCount, &actors, &ids, &session);
  std::vector<std::vector<Recorded>> logs(kThreads);
  std::atomic<uint64_t> journalRead{0};
  std::atomic<bool> done{false};
  // A concurrent journal reader (the attestation store's thread): must see a gap-free sequence.
  std::thread reader([&] {
    uint64_t next = 1;
    std::vector<JournalEntry> batch;
    while (true) {
      const bool finished = done.load();
      batch.clear();
      (void)core.ReadJournal(next, 4096, &batch);
      for (const JournalEntry& entry : batch) {
        if (entry.decision.seq != next) return;
        ++next;
      }
      if (finished && batch.empty()) break;
      if (batch.empty()) std::this_thread::yield();
    }
    journalRead.store(next - 1);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<uint32_t>(1234 + t));
      const Action actions[] = {Action::kStart, Action::kClaim, Action::kInterrupt, Action::kTransfer,
                                Action::kSynthesize, Action::kPlay, Action::kStop, Action::kRestart,
                                Action::kRelease, Action::kFail};
      for (int index = 0; index < perThread; ++index) {
        Request request;
        const bool asSystem = random() % 8 == 0;
        request.actor = asSystem ? actors.back() : actors[static_cast<size_t>(t)];
        request.actorKind = asSystem ? 3 : 1;
        request.action = A(actions[random() % 10]);
        request.stream = ids[random() % streamCount];
        request.session = session;
        request.priority = 1 + static_cast<int32_t>(random() % 10);
        request.newOwner = actors[random() % kThreads];
        if (asSystem && random() % 2 == 0) request.preemptFor = ids[random() % streamCount];
        const Decision decision = core.Decide(request);
        logs[static_cast<size_t>(t)].push_back(Recorded{decision.seq, request, decision});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.store(true);
  reader.join();
  const uint64_t total = static_cast<uint64_t>(perThread) * kThreads;
  VS_CHECK_EQ(core.LastSeq(), total);
  VS_CHECK_EQ(journalRead.load(), total);

  std::vector<Recorded> all;
  for (auto& log : logs) all.insert(all.end(), log.begin(), log.end());
  std::sort(all.begin(), all.end(), [](const Recorded& a, const Recorded& b) { return a.seq < b.seq; });
  int gaps = 0;
  for (size_t index = 0; index < all.size(); ++index) gaps += all[index].seq == index + 1 ? 0 : 1;
  VS_CHECK_EQ(gaps, 0);

  // Journal entries equal what each thread was told.
  std::vector<JournalEntry> journal;
  VS_CHECK(core.ReadJournal(1, static_cast<uint32_t>(total), &journal) == CoreStatus::kOk);
  VS_CHECK_EQ(journal.size(), total);
  int journalMismatches = 0;
  for (size_t index = 0; index < journal.size() && index < all.size(); ++index) {
    journalMismatches += SameDecision(journal[index].decision, all[index].decision) ? 0 : 1;
  }
  VS_CHECK_EQ(journalMismatches, 0);

  // Double winners: an allowed claim must take an unowned (or new) stream.
  int doubleWinners = 0;
  int claimsWon = 0;
  for (const Recorded& record : all) {
    if (record.request.action == A(Action::kClaim) && record.decision.allowed) {
      ++claimsWon;
      doubleWinners += record.decision.ownerBefore == kNoId ? 0 : 1;
    }
  }
  VS_CHECK_EQ(doubleWinners, 0);
  VS_CHECK(claimsWon > 0);

  // Linearizability: a fresh core deciding the same requests in seq order agrees on every one.
  RegistrarCore replay(options);
  std::vector<int32_t> replayActors, replayIds;
  int32_t replaySession = kNoId;
  Populate(replay, streamCount, &replayActors, &replayIds, &replaySession);
  int replayMismatches = 0;
  for (const Recorded& record : all) {
    replayMismatches += SameDecision(replay.Decide(record.request), record.decision) ? 0 : 1;
  }
  VS_CHECK_EQ(replayMismatches, 0);
  const Image live = core.TakeImage();
  const Image rebuilt = replay.TakeImage();
  VS_CHECK_EQ(live.streams.size(), rebuilt.streams.size());
  for (size_t index = 0; index < live.streams.size() && index < rebuilt.streams.size(); ++index) {
    VS_CHECK_EQ(live.streams[index].version, rebuilt.streams[index].version);
    VS_CHECK_EQ(live.streams[index].owner, rebuilt.streams[index].owner);
    VS_CHECK_EQ(live.streams[index].state, rebuilt.streams[index].state);
  }
}

/**
 * Compaction frees ids while 8 threads decide: each thread runs utterances on keys of its own,
 * caching key -> id and passing the free epoch it cached them in; a stale answer makes it intern
 * again (as src/registrar/native-core.ts does). A stale id confused with a reused one would act on
 * another thread's stream and be denied, so every request must be allowed; the tables stay small.
 */
void TestCompactionFreesIdsUnderRace() {
  const int perThread = std::max(300, static_cast<int>(3000 * vs::test::Scale()));
  CoreOptions options;
  options.journalCapacity = 1024;
  options.compactionPeriod = 64;
  options.compactionRetain = 32;
  RegistrarCore core(options);
  std::vector<int32_t> actors;
  for (int index = 0; index < kThreads; ++index) actors.push_back(core.RegisterActor("agent:u" + std::to_string(index), 1));
  const int32_t session = core.InternScope(0, "default");
  std::atomic<int> denied{0};
  std::atomic<int> stale{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // The cache: a few keys reused round-robin, so cached ids outlive their streams' compaction.
      std::vector<int32_t> cached(4, kNoId);
      uint32_t epoch = core.FreeEpoch();
      for (int round = 0; round < perThread; ++round) {
        const size_t slot = static_cast<size_t>(round % 4);
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(round % 4);
        for (const Action action : {Action::kStart, Action::kSynthesize, Action::kPlay, Action::kStop}) {
          for (;;) {
            if (cached[slot] == kNoId) cached[slot] = core.InternStream(key);
            Request request;
            request.actor = actors[static_cast<size_t>(t)];
            request.actorKind = 1;
            request.action = A(action);
            request.stream = cached[slot];
            request.session = session;
            request.checkEpoch = true;
            request.epoch = epoch;
            const Decision decision = core.Decide(request);
            if (decision.stale) {
              stale.fetch_add(1);
              std::fill(cached.begin(), cached.end(), kNoId);
              epoch = core.FreeEpoch();
              continue;
            }
            if (!decision.allowed) denied.fetch_add(1);
            break;
          }
        }
        // A new lifecycle on this key only once its stream was compacted: until then it is stopped.
        if (round % 4 == 3) {
          for (int spin = 0; spin < 2000; ++spin) (void)core.ReserveSeq();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  VS_CHECK_EQ(denied.load(), 0);
  VS_CHECK(stale.load() > 0);  // ids were freed under the threads' caches
  VS_CHECK(core.FreeEpoch() > 0);
  // Live: what is not compacted yet; the table: that plus a journal length of quarantined ids.
  VS_CHECK(core.StreamTableSize() <= kThreads * 4 + 1024 / 4 + 64);
}

/**
 * Memberships under a race: 8 threads create streams with a user (the applying helper adds the
 * membership) and enable/disable session overrides as users (the decision reads memberships),
 * while a host thread declares other pairs and reads them back. Re-deciding in seq order agrees on
 * every decision, and the set holds each pair once with the same bits.
 */
void TestMembershipsUnderRace() {
  const int perThread = std::max(400, static_cast<int>(4000 * vs::test::Scale()));
  constexpr int kUsers = 4, kSessions = kUsers, kExtraUsers = 256;
  struct Ids {
    std::vector<int32_t> agents, users, userScopes, sessions, extra, streams;
  };
  const auto populate = [&](RegistrarCore& core) {
    Ids ids;
    for (int index = 0; index < kThreads; ++index) ids.agents.push_back(core.RegisterActor("agent:a" + std::to_string(index), 1));
    for (int index = 0; index < kUsers; ++index) {
      ids.users.push_back(core.RegisterActor("user:u" + std::to_string(index), 0));
      ids.userScopes.push_back(core.InternScope(1, "u" + std::to_string(index)));
    }
    for (int index = 0; index < kSessions; ++index) ids.sessions.push_back(core.InternScope(0, "s" + std::to_string(index)));
    for (int index = 0; index < kExtraUsers; ++index) ids.extra.push_back(core.InternScope(1, "x" + std::to_string(index)));
    for (int index = 0; index < kThreads * perThread; ++index) ids.streams.push_back(core.InternStream("m" + std::to_string(index)));
    // User 0 is declared in session 0 before anything is decided (a declaration outside the race).
    VS_CHECK(core.DeclareMember(ids.userScopes[0], ids.sessions[0], kMemberDeclared) == CoreStatus::kOk);
    return ids;
  };
  RegistrarCore core(1u << 20);
  const Ids ids = populate(core);
  std::vector<std::vector<Recorded>> logs(kThreads);
  std::atomic<bool> done{false};
  std::atomic<int> hostReadsWrong{0};
  std::thread host([&] {
    std::mt19937 random(99);
    for (uint32_t round = 0; !done.load(); ++round) {
      const int32_t user = ids.extra[random() % kExtraUsers];
      const int32_t session = ids.sessions[random() % kSessions];
      const uint32_t bit = random() % 2 == 0 ? kMemberDeclared : kMemberRecorded;
      if (core.DeclareMember(user, session, bit) != CoreStatus::kOk) hostReadsWrong.fetch_add(1);
      if ((core.Membership(user, session) & bit) == 0) hostReadsWrong.fetch_add(1);
      if (round % 64 == 0) (void)core.Memberships();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<uint32_t>(777 + t));
      int created = 0;
      for (int index = 0; index < perThread; ++index) {
        Request request;
        const uint32_t pick = random() % 10;
        const size_t user = random() % kUsers;
        request.session = ids.sessions[random() % kSessions];
        if (pick < 4) {
          request.actor = ids.agents[static_cast<size_t>(t)];
          request.actorKind = 1;
          request.action = A(Action::kStart);
          request.stream = ids.streams[static_cast<size_t>(t * perThread + created++)];
          request.user = ids.userScopes[user];
        } else {
          request.actor = ids.users[user];
          request.actorKind = 0;
          request.action = A(pick < 7 ? Action::kEnableOverride : Action::kDisableOverride);
          request.actorUser = ids.userScopes[user];
          request.overrideScope = 0;
          request.overrideScopeId = ids.sessions[user];  // user i enables only session i: no HALT ends the race early
        }
        const Decision decision = core.Decide(request);
        logs[static_cast<size_t>(t)].push_back(Recorded{decision.seq, request, decision});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.store(true);
  host.join();
  VS_CHECK_EQ(hostReadsWrong.load(), 0);

  std::vector<Recorded> all;
  for (auto& log : logs) all.insert(all.end(), log.begin(), log.end());
  std::sort(all.begin(), all.end(), [](const Recorded& a, const Recorded& b) { return a.seq < b.seq; });
  RegistrarCore replay(1u << 20);
  (void)populate(replay);
  int mismatches = 0, enabledByStream = 0, halts = 0;
  for (const Recorded& record : all) {
    const Decision again = replay.Decide(record.request);
    mismatches += SameDecision(again, record.decision) ? 0 : 1;
    if (record.request.action == A(Action::kEnableOverride) && record.decision.allowed && record.request.actorUser != ids.userScopes[0]) ++enabledByStream;
    halts += record.decision.halted ? 1 : 0;
  }
  VS_CHECK_EQ(mismatches, 0);
  VS_CHECK(enabledByStream > 0);  // memberships implied by racing creations were used
  VS_CHECK_EQ(halts, 0);
  // The pairs the decisions made equal the replay's; each pair once, the host's extra ones aside.
  std::vector<MembershipView> live;
  for (const MembershipView& view : core.Memberships()) {
    if (std::find(ids.extra.begin(), ids.extra.end(), view.user) == ids.extra.end()) live.push_back(view);
  }
  const std::vector<MembershipView> rebuilt = replay.Memberships();
  VS_CHECK_EQ(live.size(), rebuilt.size());
  for (size_t index = 0; index < live.size() && index < rebuilt.size(); ++index) {
    VS_CHECK(live[index].user == rebuilt[index].user && live[index].session == rebuilt[index].session &&
             live[index].basis == rebuilt[index].basis);
  }
  const std::vector<MembershipView> every = core.Memberships();
  for (size_t index = 1; index < every.size(); ++index) {
    VS_CHECK(every[index - 1].user != every[index].user || every[index - 1].session != every[index].session);
  }
}

}  // namespace

int main() {
  TestOneWinnerPerClaim();
  TestRandomRaceLinearizable(CoreOptions{});
  CoreOptions compacting;
  compacting.compactionPeriod = 64;
  compacting.compactionRetain = 32;
  TestRandomRaceLinearizable(compacting);
  TestCompactionFreesIdsUnderRace();
  TestMembershipsUnderRace();
  return VS_TEST_RESULT("test_registrar_race");
}
