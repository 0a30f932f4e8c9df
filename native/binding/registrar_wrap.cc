// JS binding of the registrar decision core (native/core/registrar_core.h): class RegistrarCore.
// Only converts values: the hot calls (decide, evaluate, stream) read their request from and
// write their result into a per-object ArrayBuffer the JS side set up once, so a decision costs
// one N-API call and no property access. Cores live in a process-wide registry, so a
// worker_thread attaches to the core its parent created; each environment's references are
// released by its cleanup hook (and by close() and GC).
//
// Attaching is a capability, not a lookup: each core gets a 128-bit secret when it is created
// (std::random_device, read here in C++ so no JS code in the process can replace the source), and
// attaching needs the share token "<handle>.<32 hex digits>" that only an object already holding
// the core can read (`shareToken`). An unknown handle, a wrong or malformed secret all get the
// same REGISTRAR_CORE_NOT_FOUND, after the same constant-time comparison.
//
// Log writer and bodies (registrar_core.h, "One log writer, many deciders"): an object becomes its
// core's one writer with claimWriter(); releasing that object (close(), GC, its environment's
// teardown) closes the writer (the close fence), so deciders on other threads are refused rather
// than decide what nobody can record. Every object has a process-unique decider id, stamped by
// this binding (not by JS) on each request, so postBody() accepts a body only from the object that
// decided its seq.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "exports.h"
#include "registrar_core.h"
#include "stream_watch_wrap.h"

namespace vs::binding {
namespace {

using registrar::CoreStatus;
using registrar::RegistrarCore;

// Layout of the I/O buffer (mirrored in src/native/registrar-binding.ts).
constexpr size_t kRequestInts = 20;            // Int32 [0, 12): the CoreRequest fields, in order;
                                               // [12] free epoch of the ids, [13] 1: check it;
                                               // [14] grants, [15] values, [16] expected grants,
                                               // [17] expected values, [18] flags (1 check grants,
                                               // 2 check values, 4 posts its body), [19] actorUser
constexpr size_t kWrittenOffsetBytes = 80;     // Float64 at byte 80: the writer's written seq (0: none)
constexpr size_t kOutputOffsetBytes = 128;     // Float64 from byte 128: results
constexpr size_t kIoBytes = 320;
constexpr size_t kDecisionFields = 14;         // then Float64 [14]: 0 decided, 1 stale ids, or a Refusal
constexpr size_t kEpochOutput = 20;            // Float64 [20]: the core's free epoch after the call
constexpr size_t kStreamFields = 11;
constexpr size_t kOverrideFields = 4;
constexpr size_t kJournalFields = kDecisionFields + 21;
constexpr size_t kMembershipFields = 3;        // user, session, basis

/** Process-unique decider ids of the objects (0 is "none"). */
std::atomic<uint32_t> nextDecider{1};

/** A core's attach secret: 128 random bits. */
using Secret = std::array<uint8_t, 16>;

/** Whether two secrets are equal, in time independent of where they differ. */
bool SameSecret(const Secret& a, const Secret& b) {
  volatile uint8_t difference = 0;
  for (size_t index = 0; index < a.size(); ++index) difference = difference | (a[index] ^ b[index]);
  return difference == 0;
}

/** "<handle>.<32 lowercase hex>". */
std::string FormatToken(uint32_t handle, const Secret& secret) {
  static const char kHex[] = "0123456789abcdef";
  std::string token = std::to_string(handle) + '.';
  for (uint8_t byte : secret) {
    token += kHex[byte >> 4];
    token += kHex[byte & 0xF];
  }
  return token;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // lowercase only: one spelling per token
}

/** Parses a share token; false for anything not "<1..4294967295>.<32 lowercase hex>". */
bool ParseToken(const std::string& token, uint32_t* handle, Secret* secret) {
  const size_t dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 10 || token.size() != dot + 1 + secret->size() * 2) return false;
  uint64_t value = 0;
  for (size_t index = 0; index < dot; ++index) {
    if (token[index] < '0' || token[index] > '9') return false;
    value = value * 10 + static_cast<uint64_t>(token[index] - '0');
  }
  if (value == 0 || value > UINT32_MAX) return false;
  for (size_t index = 0; index < secret->size(); ++index) {
    const int high = HexDigit(token[dot + 1 + index * 2]);
    const int low = HexDigit(token[dot + 2 + index * 2]);
    if (high < 0 || low < 0) return false;
    (*secret)[index] = static_cast<uint8_t>(high << 4 | low);
  }
  *handle = static_cast<uint32_t>(value);
  return true;
}

/** Why Registry::Load refused. */
enum class LoadResult { kOk, kInUse, kInvalid };

/** Process-wide handle -> (core, secret) registry. A handle resolves, with its secret, while any
 *  environment holds the core. */
class Registry {
 public:
  static Registry& Get() {
    static Registry* registry = new Registry();  // never destroyed: workers may outlive statics
    return *registry;
  }
  /** Registers a new core under a fresh handle and secret. Throws std::exception when the
   *  system has no random source. */
  uint32_t Add(const std::shared_ptr<RegistrarCore>& core, Secret* secret) {
    std::random_device random;  // the OS CSPRNG (getrandom, /dev/urandom, RDRAND, RtlGenRandom)
    for (size_t index = 0; index < secret->size(); index += 4) {
      const uint32_t word = random();
      std::memcpy(secret->data() + index, &word, 4);
    }
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto it = cores_.begin(); it != cores_.end();) {
      it = it->second.core.expired() ? cores_.erase(it) : std::next(it);
    }
    const uint32_t handle = next_++;
    cores_[handle] = Entry{core, *secret, 0};
    return handle;
  }
  /** The core with this handle and secret, else null (the same for an unknown handle and a wrong
   *  secret, and the comparison runs either way). */
  std::shared_ptr<RegistrarCore> Find(uint32_t handle, const Secret& secret) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = cores_.find(handle);
    const Entry* entry = found == cores_.end() ? &decoy_ : &found->second;
    const bool same = SameSecret(entry->secret, secret);
    return same && entry != &decoy_ ? entry->core.lock() : nullptr;
  }
  /** Loads `image` into `core` (held by the caller as `handle`) only when the caller's reference is
   *  the only one in the process and nothing was decided on the core since it was created or last
   *  loaded. Runs under the registry lock, so no one attaches meanwhile. */
  LoadResult Load(uint32_t handle, const std::shared_ptr<RegistrarCore>& core, const registrar::Image& image) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = cores_.find(handle);
    if (found == cores_.end()) return LoadResult::kInUse;  // unreachable while `core` is held
    // Other references are only made under this lock (Find), so the count cannot grow here.
    if (core.use_count() != 1 || core->LastSeq() != found->second.freshSeq) return LoadResult::kInUse;
    if (core->Load(image) != CoreStatus::kOk) return LoadResult::kInvalid;
    found->second.freshSeq = image.lastSeq;
    return LoadResult::kOk;
  }

 private:
  struct Entry {
    std::weak_ptr<RegistrarCore> core;
    Secret secret{};
    /** The core's last seq when it was created or loaded: it is "fresh" while it stays there. */
    uint64_t freshSeq = 0;
  };
  std::mutex mutex_;
  std::unordered_map<uint32_t, Entry> cores_;
  Entry decoy_{};  // compared against for an unknown handle
  uint32_t next_ = 1;
};

class CoreWrap;

/** Per-environment bookkeeping: the live wraps, released by the environment's cleanup hook. */
struct EnvState {
  std::unordered_set<CoreWrap*> wraps;
  bool tornDown = false;
};

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

class CoreWrap : public Napi::ObjectWrap<CoreWrap> {
 public:
  /** The class, bound to this environment's state (reached again through info.Data()). */
  static Napi::Function Define(Napi::Env env, std::shared_ptr<EnvState>* state) {
    return DefineClass(
        env, "RegistrarCore",
        {
            InstanceAccessor<&CoreWrap::ShareToken>("shareToken"),
            InstanceMethod<&CoreWrap::RegisterActor>("registerActor"),
            InstanceMethod<&CoreWrap::ActorId>("actorId"),
            InstanceMethod<&CoreWrap::InternStream>("internStream"),
            InstanceMethod<&CoreWrap::StreamIdOf>("streamIdOf"),
            InstanceMethod<&CoreWrap::InternScope>("internScope"),
            InstanceMethod<&CoreWrap::ActorKey>("actorKey"),
            InstanceMethod<&CoreWrap::StreamKey>("streamKey"),
            InstanceMethod<&CoreWrap::ScopeKey>("scopeKey"),
            InstanceMethod<&CoreWrap::Decide>("decide"),
            InstanceMethod<&CoreWrap::ReserveSeq>("reserveSeq"),
            InstanceMethod<&CoreWrap::Stream>("stream"),
            InstanceMethod<&CoreWrap::WatchStream>("watchStream"),
            InstanceMethod<&CoreWrap::Overrides>("overrides"),
            InstanceMethod<&CoreWrap::DeclareMember>("declareMember"),
            InstanceMethod<&CoreWrap::Membership>("membership"),
            InstanceMethod<&CoreWrap::Memberships>("memberships"),
            InstanceMethod<&CoreWrap::Image>("image"),
            InstanceMethod<&CoreWrap::Load>("load"),
            InstanceMethod<&CoreWrap::ReadJournal>("readJournal"),
            InstanceMethod<&CoreWrap::LastSeq>("lastSeq"),
            InstanceMethod<&CoreWrap::FreeEpoch>("freeEpoch"),
            InstanceMethod<&CoreWrap::Compaction>("compaction"),
            InstanceMethod<&CoreWrap::SweptAt>("sweptAt"),
            InstanceMethod<&CoreWrap::Stats>("stats"),
            InstanceAccessor<&CoreWrap::DeciderId>("decider"),
            InstanceMethod<&CoreWrap::ClaimWriter>("claimWriter"),
            InstanceMethod<&CoreWrap::NoteWritten>("noteWritten"),
            InstanceMethod<&CoreWrap::WriterInfo>("writerInfo"),
            InstanceMethod<&CoreWrap::CloseWriter>("closeWriter"),
            InstanceMethod<&CoreWrap::Halt>("halt"),
            InstanceMethod<&CoreWrap::HaltInfo>("haltInfo"),
            InstanceMethod<&CoreWrap::PostBody>("postBody"),
            InstanceMethod<&CoreWrap::TakeBodies>("takeBodies"),
            InstanceMethod<&CoreWrap::SetShareInfo>("setShareInfo"),
            InstanceMethod<&CoreWrap::ShareInfo>("shareInfo"),
            InstanceMethod<&CoreWrap::Close>("close"),
        },
        state);
  }

  // new RegistrarCore(shareToken: string | null (null: create), journalCapacity: number,
  //                   io: ArrayBuffer, compactionPeriod?, compactionRetain?, streamCapacity?, scopeCapacity?)
  // (the optional numbers only when creating; absent: no compaction, full id spaces)
  explicit CoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CoreWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !(info[0].IsNull() || info[0].IsString()) || !info[1].IsNumber() || !info[2].IsArrayBuffer()) {
      throw Napi::TypeError::New(env, "RegistrarCore(shareToken: string | null, journalCapacity, io: ArrayBuffer, ...options)");
    }
    Napi::ArrayBuffer io = info[2].As<Napi::ArrayBuffer>();
    if (io.ByteLength() < kIoBytes) throw Napi::RangeError::New(env, "io buffer must be at least 320 bytes");
    if (info[0].IsNull()) {
      registrar::CoreOptions options;
      options.journalCapacity = info[1].As<Napi::Number>().Uint32Value();
      auto number = [&info](size_t index, double fallback) {
        return info.Length() > index && info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : fallback;
      };
      options.compactionPeriod = static_cast<uint64_t>(number(3, 0));
      options.compactionRetain = static_cast<uint64_t>(number(4, 0));
      options.streamCapacity = static_cast<int32_t>(number(5, options.streamCapacity));
      options.scopeCapacity = static_cast<int32_t>(number(6, options.scopeCapacity));
      core_ = std::make_shared<RegistrarCore>(options);
      try {
        handle_ = Registry::Get().Add(core_, &secret_);
      } catch (const std::exception& error) {
        throw CodedError(env, "REGISTRAR_RANDOM_UNAVAILABLE", std::string("No random source for the core's secret: ") + error.what());
      }
    } else {
      uint32_t handle = 0;
      Secret secret{};
      // A malformed token is looked up as handle 0 (never issued), so it takes the same path.
      if (!ParseToken(info[0].As<Napi::String>().Utf8Value(), &handle, &secret)) handle = 0;
      core_ = Registry::Get().Find(handle, secret);
      if (!core_) {
        throw CodedError(env, "REGISTRAR_CORE_NOT_FOUND",
                         "No registrar core matches this share token (it was closed, or the token is wrong)");
      }
      handle_ = handle;
      secret_ = secret;
    }
    io_ = Napi::Persistent(io);
    data_ = static_cast<uint8_t*>(io.Data());
    env_ = *static_cast<std::shared_ptr<EnvState>*>(info.Data());
    env_->wraps.insert(this);
  }

  ~CoreWrap() override {
    if (!env_->tornDown) env_->wraps.erase(this);
    Release();
  }

  /** Drops this object's reference to the core (close(), GC, environment teardown); the writer's
   *  object closes the writer first (the close fence: see the file comment). */
  void Release() {
    if (core_ && writer_) core_->CloseWriter();
    writer_ = false;
    core_.reset();
    data_ = nullptr;
  }

 private:
  RegistrarCore& Core(Napi::Env env) {
    if (!core_) throw CodedError(env, "REGISTRAR_CORE_CLOSED", "This registrar core was closed");
    return *core_;
  }
  int32_t* Ints() const { return reinterpret_cast<int32_t*>(data_); }
  /** Whether the ids of the request in the I/O buffer are from an older free epoch. */
  bool StaleIds(const RegistrarCore& core) const { return Ints()[13] != 0 && static_cast<uint32_t>(Ints()[12]) != core.FreeEpoch(); }
  double* Out() const { return reinterpret_cast<double*>(data_ + kOutputOffsetBytes); }
  static std::string StringArg(const Napi::CallbackInfo& info, size_t index) {
    if (info.Length() <= index || !info[index].IsString()) {
      throw Napi::TypeError::New(info.Env(), "expected a string argument");
    }
    return info[index].As<Napi::String>().Utf8Value();
  }
  static int32_t IntArg(const Napi::CallbackInfo& info, size_t index) {
    if (info.Length() <= index || !info[index].IsNumber()) {
      throw Napi::TypeError::New(info.Env(), "expected a number argument");
    }
    return info[index].As<Napi::Number>().Int32Value();
  }
  static Napi::Value Id(Napi::Env env, int32_t id) {
    if (id == registrar::kNoId) {
      throw CodedError(env, "REGISTRAR_ID_SPACE_FULL", "The registrar core cannot intern more ids of this kind");
    }
    return Napi::Number::New(env, id);
  }
  static Napi::Value Key(Napi::Env env, bool found, const std::string& key) {
    return found ? Napi::Value(Napi::String::New(env, key)) : env.Undefined();
  }
  static void WriteDecision(const registrar::Decision& d, double* out) {
    const double values[kDecisionFields] = {
        d.allowed ? 1.0 : 0.0, static_cast<double>(d.violations), static_cast<double>(d.reason),
        d.halted ? 1.0 : 0.0, static_cast<double>(d.seq), static_cast<double>(d.stream),
        static_cast<double>(d.stateBefore), static_cast<double>(d.stateAfter), static_cast<double>(d.version),
        static_cast<double>(d.parentSeq), static_cast<double>(d.ownerBefore), static_cast<double>(d.ownerAfter),
        d.accessibility ? 1.0 : 0.0, d.preemption ? 1.0 : 0.0};
    std::memcpy(out, values, sizeof(values));
  }
  static void WriteStream(const registrar::StreamView& s, double* out) {
    const double values[kStreamFields] = {
        static_cast<double>(s.stream), static_cast<double>(s.state), static_cast<double>(s.owner),
        static_cast<double>(s.session), static_cast<double>(s.user), static_cast<double>(s.priority),
        static_cast<double>(s.version), static_cast<double>(s.graphRevision), s.committed ? 1.0 : 0.0,
        static_cast<double>(s.lastSeq), static_cast<double>(s.grants)};
    std::memcpy(out, values, sizeof(values));
  }

  // watchStream(id, playSeq): an opaque watch of the play decided at `playSeq` on stream `id` for
  // AudioDevice#voiceWatch (stream_watch_wrap.h); null when the id has no slot, false when the
  // stream's last decision is no longer `playSeq`. Holds the core weakly: the voice that arms it
  // keeps it alive.
  Napi::Value WatchStream(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    const int32_t id = IntArg(info, 0);
    if (info.Length() <= 1 || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number argument");
    const double playSeq = info[1].As<Napi::Number>().DoubleValue();
    if (!(playSeq >= 1 && playSeq <= 9007199254740991.0) || std::floor(playSeq) != playSeq) {
      throw Napi::TypeError::New(info.Env(), "watchStream: playSeq must be a positive safe integer");
    }
    StreamWatchTarget target;
    switch (core.WatchTarget(id, static_cast<uint64_t>(playSeq), &target)) {
      case RegistrarCore::WatchStatus::kNoSlot: return info.Env().Null();
      case RegistrarCore::WatchStatus::kSuperseded: return Napi::Boolean::New(info.Env(), false);
      case RegistrarCore::WatchStatus::kOk: break;
    }
    return NewStreamWatch(info.Env(), std::shared_ptr<const void>(core_), target);
  }
  Napi::Value ShareToken(const Napi::CallbackInfo& info) {
    Core(info.Env());  // a closed object shares nothing
    return Napi::String::New(info.Env(), FormatToken(handle_, secret_));
  }
  Napi::Value RegisterActor(const Napi::CallbackInfo& info) {
    const std::string key = StringArg(info, 0);
    const int32_t kind = IntArg(info, 1);
    if (kind < 0 || kind > 3) throw Napi::RangeError::New(info.Env(), "actor kind must be 0..3");
    return Id(info.Env(), Core(info.Env()).RegisterActor(key, kind));
  }
  Napi::Value ActorId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Core(info.Env()).ActorId(StringArg(info, 0)));
  }
  // internStream(key): the id, or -2 (kFullId) when no stream id is left (a request naming it is
  // then denied capacity_exhausted by the core; nothing throws).
  Napi::Value InternStream(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Core(info.Env()).InternStream(StringArg(info, 0)));
  }
  Napi::Value StreamIdOf(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Core(info.Env()).StreamIdOf(StringArg(info, 0)));
  }
  Napi::Value InternScope(const Napi::CallbackInfo& info) {
    const int32_t space = IntArg(info, 0);
    if (space < 0 || space > 3) throw Napi::RangeError::New(info.Env(), "scope space must be 0..3 (session, user, grant set, override values)");
    return Napi::Number::New(info.Env(), Core(info.Env()).InternScope(space, StringArg(info, 1)));  // -2 when full
  }
  Napi::Value ActorKey(const Napi::CallbackInfo& info) {
    std::string key;
    const bool found = Core(info.Env()).ActorKey(IntArg(info, 0), &key);
    return Key(info.Env(), found, key);
  }
  Napi::Value StreamKey(const Napi::CallbackInfo& info) {
    std::string key;
    const bool found = Core(info.Env()).StreamKey(IntArg(info, 0), &key);
    return Key(info.Env(), found, key);
  }
  Napi::Value ScopeKey(const Napi::CallbackInfo& info) {
    std::string key;
    const bool found = Core(info.Env()).ScopeKey(IntArg(info, 0), IntArg(info, 1), &key);
    return Key(info.Env(), found, key);
  }

  // decide(evaluate: boolean): request from io Int32[0..20), decision to io Float64 from byte 128.
  Napi::Value Decide(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    const int32_t* in = Ints();
    if (writer_) {
      double written = 0;
      std::memcpy(&written, data_ + kWrittenOffsetBytes, sizeof(written));
      if (written > 0) core.NoteWritten(static_cast<uint64_t>(written));
    }
    registrar::Request request;
    request.actor = in[0];
    request.actorKind = in[1];
    request.action = in[2];
    request.stream = in[3];
    request.newOwner = in[4];
    request.preemptFor = in[5];
    request.priority = in[6];
    request.session = in[7];
    request.user = in[8];
    request.overrideScope = in[9];
    request.overrideScopeId = in[10];
    request.pluginAllowed = in[11] != 0;
    request.epoch = static_cast<uint32_t>(in[12]);
    request.checkEpoch = in[13] != 0;
    request.grants = in[14];
    request.values = in[15];
    request.expectedGrants = in[16];
    request.expectedValues = in[17];
    request.checkGrants = (in[18] & 1) != 0;
    request.checkValues = (in[18] & 2) != 0;
    request.postsBody = (in[18] & 4) != 0;
    request.decider = decider_;
    request.actorUser = in[19];
    const bool evaluate = info.Length() > 0 && info[0].ToBoolean().Value();
    const registrar::Decision decision = evaluate ? core.Evaluate(request) : core.Decide(request);
    WriteDecision(decision, Out());
    Out()[kDecisionFields] = decision.stale ? 1.0 : static_cast<double>(decision.refused);
    Out()[kEpochOutput] = core.FreeEpoch();
    return info.Env().Undefined();
  }
  // reserveSeq(postsBody?): the seq, or minus the Refusal (-3 backpressure, -4 writer gone).
  Napi::Value ReserveSeq(const Napi::CallbackInfo& info) {
    const bool postsBody = info.Length() > 0 && info[0].ToBoolean().Value();
    registrar::Refusal refused = registrar::Refusal::kNone;
    const uint64_t seq = Core(info.Env()).ReserveSeq(&refused, decider_, postsBody);
    return Napi::Number::New(info.Env(), seq != 0 ? static_cast<double>(seq) : -static_cast<double>(refused));
  }
  // stream(id): 1 and the stream in io Float64, 0 when there is none, 2 when the epoch in io
  // Int32 [12] (checked when [13] is 1) is not the core's (the id may be freed: look it up again).
  // A freed id is reused only a journal length after the sweep that freed it, so the check
  // before the read is enough.
  Napi::Value Stream(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    Out()[kEpochOutput] = core.FreeEpoch();
    if (StaleIds(core)) return Napi::Number::New(info.Env(), 2);
    registrar::StreamView view;
    const bool found = core.Stream(IntArg(info, 0), &view);
    if (found) WriteStream(view, Out());
    return Napi::Number::New(info.Env(), found ? 1 : 0);
  }
  static void WriteOverrides(const std::vector<registrar::OverrideView>& overrides, Napi::Int32Array& flat) {
    for (size_t index = 0; index < overrides.size(); ++index) {
      flat[index * kOverrideFields] = overrides[index].owner;
      flat[index * kOverrideFields + 1] = overrides[index].scope;
      flat[index * kOverrideFields + 2] = overrides[index].scopeId;
      flat[index * kOverrideFields + 3] = overrides[index].values;
    }
  }
  Napi::Value Overrides(const Napi::CallbackInfo& info) {
    const auto overrides = Core(info.Env()).Overrides();
    Napi::Int32Array flat = Napi::Int32Array::New(info.Env(), overrides.size() * kOverrideFields);
    WriteOverrides(overrides, flat);
    return flat;
  }
  // declareMember(user, session, basis): adds basis bits to a membership (interned scope ids).
  Napi::Value DeclareMember(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CoreStatus status =
        Core(env).DeclareMember(IntArg(info, 0), IntArg(info, 1), static_cast<uint32_t>(IntArg(info, 2)));
    if (status != CoreStatus::kOk) {
      throw CodedError(env, "REGISTRAR_UNKNOWN_ID", "declareMember: the user or session id is not interned, or the basis has no known bit");
    }
    return env.Undefined();
  }
  Napi::Value Membership(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Core(info.Env()).Membership(IntArg(info, 0), IntArg(info, 1)));
  }
  Napi::Value Memberships(const Napi::CallbackInfo& info) {
    return MembershipArray(info.Env(), Core(info.Env()).Memberships());
  }
  static Napi::Int32Array MembershipArray(Napi::Env env, const std::vector<registrar::MembershipView>& list) {
    Napi::Int32Array flat = Napi::Int32Array::New(env, list.size() * kMembershipFields);
    for (size_t index = 0; index < list.size(); ++index) {
      flat[index * kMembershipFields] = list[index].user;
      flat[index * kMembershipFields + 1] = list[index].session;
      flat[index * kMembershipFields + 2] = static_cast<int32_t>(list[index].basis);
    }
    return flat;
  }
  Napi::Value Image(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const registrar::Image image = Core(env).TakeImage();
    Napi::Float64Array streams = Napi::Float64Array::New(env, image.streams.size() * kStreamFields);
    for (size_t index = 0; index < image.streams.size(); ++index) {
      WriteStream(image.streams[index], streams.Data() + index * kStreamFields);
    }
    Napi::Int32Array overrides = Napi::Int32Array::New(env, image.overrides.size() * kOverrideFields);
    WriteOverrides(image.overrides, overrides);
    Napi::Int32Array memberships = MembershipArray(env, image.memberships);
    Napi::Object result = Napi::Object::New(env);
    result.Set("lastSeq", Napi::Number::New(env, static_cast<double>(image.lastSeq)));
    result.Set("halted", Napi::Boolean::New(env, image.halted));
    result.Set("streams", streams);
    result.Set("overrides", overrides);
    result.Set("memberships", memberships);
    Out()[kEpochOutput] = Core(env).FreeEpoch();
    return result;
  }
  // load(lastSeq, halted, streams: Float64Array, overrides: Int32Array, memberships?: Int32Array)
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const bool withMemberships = info.Length() >= 5 && info[4].IsTypedArray();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[2].IsTypedArray() || !info[3].IsTypedArray() ||
        (info.Length() >= 5 && !info[4].IsUndefined() && !withMemberships)) {
      throw Napi::TypeError::New(env, "load(lastSeq, halted, streams: Float64Array, overrides: Int32Array, memberships?: Int32Array)");
    }
    Napi::Float64Array streams = info[2].As<Napi::Float64Array>();
    Napi::Int32Array overrides = info[3].As<Napi::Int32Array>();
    registrar::Image image;
    image.lastSeq = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
    image.halted = info[1].ToBoolean().Value();
    for (size_t base = 0; base + kStreamFields <= streams.ElementLength(); base += kStreamFields) {
      const double* s = streams.Data() + base;
      registrar::StreamView view;
      view.stream = static_cast<int32_t>(s[0]);
      view.state = static_cast<int32_t>(s[1]);
      view.owner = static_cast<int32_t>(s[2]);
      view.session = static_cast<int32_t>(s[3]);
      view.user = static_cast<int32_t>(s[4]);
      view.priority = static_cast<int32_t>(s[5]);
      view.version = static_cast<uint64_t>(s[6]);
      view.graphRevision = static_cast<uint32_t>(s[7]);
      view.committed = s[8] != 0;
      view.lastSeq = static_cast<uint64_t>(s[9]);
      view.grants = static_cast<int32_t>(s[10]);
      image.streams.push_back(view);
    }
    for (size_t base = 0; base + kOverrideFields <= overrides.ElementLength(); base += kOverrideFields) {
      image.overrides.push_back(registrar::OverrideView{overrides[base], overrides[base + 1], overrides[base + 2], overrides[base + 3]});
    }
    if (withMemberships) {
      Napi::Int32Array memberships = info[4].As<Napi::Int32Array>();
      for (size_t base = 0; base + kMembershipFields <= memberships.ElementLength(); base += kMembershipFields) {
        image.memberships.push_back(registrar::MembershipView{memberships[base], memberships[base + 1],
                                                              static_cast<uint32_t>(memberships[base + 2])});
      }
    }
    Core(env);
    const LoadResult loaded = Registry::Get().Load(handle_, core_, image);
    if (loaded == LoadResult::kInUse) {
      throw CodedError(env, "REGISTRAR_CORE_IN_USE",
                       "load() restores into a fresh core only: this core has decided since it was created or "
                       "loaded, or another object (in this or another thread) is attached to it");
    }
    if (loaded == LoadResult::kInvalid) {
      throw CodedError(env, "REGISTRAR_IMAGE_INVALID",
                       "The image names a stream, actor or scope id this core has not interned, or a value out of range");
    }
    return env.Undefined();
  }
  // readJournal(fromSeq, maxEntries): Float64Array of kJournalFields per entry.
  Napi::Value ReadJournal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "readJournal(fromSeq, maxEntries)");
    }
    const auto from = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
    const uint32_t max = info[1].As<Napi::Number>().Uint32Value();
    std::vector<registrar::JournalEntry> entries;
    entries.reserve(std::min<uint32_t>(max, 4096));
    (void)Core(env).ReadJournal(from, max, &entries);  // never fails; an overrun shows as a later first seq
    Out()[kEpochOutput] = Core(env).FreeEpoch();
    Napi::Float64Array flat = Napi::Float64Array::New(env, entries.size() * kJournalFields);
    for (size_t index = 0; index < entries.size(); ++index) {
      const registrar::JournalEntry& entry = entries[index];
      double* out = flat.Data() + index * kJournalFields;
      WriteDecision(entry.decision, out);
      out[kDecisionFields] = entry.actor;
      out[kDecisionFields + 1] = entry.actorKind;
      out[kDecisionFields + 2] = entry.action;
      out[kDecisionFields + 3] = entry.target;
      out[kDecisionFields + 4] = static_cast<double>(entry.monotonicNs >> 32);
      out[kDecisionFields + 5] = static_cast<double>(entry.monotonicNs & 0xFFFFFFFFu);
      out[kDecisionFields + 6] = entry.kind;
      const registrar::Request& r = entry.request;
      out[kDecisionFields + 7] = r.newOwner;
      out[kDecisionFields + 8] = r.preemptFor;
      out[kDecisionFields + 9] = r.priority;
      out[kDecisionFields + 10] = r.session;
      out[kDecisionFields + 11] = r.user;
      out[kDecisionFields + 12] = r.overrideScope;
      out[kDecisionFields + 13] = r.overrideScopeId;
      out[kDecisionFields + 14] = r.pluginAllowed ? 1 : 0;
      out[kDecisionFields + 15] = r.grants;
      out[kDecisionFields + 16] = r.values;
      out[kDecisionFields + 17] = r.decider;
      out[kDecisionFields + 18] = r.postsBody ? 1 : 0;
      out[kDecisionFields + 19] = r.haltCause;
      out[kDecisionFields + 20] = r.actorUser;
    }
    return flat;
  }
  Napi::Value LastSeq(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(Core(info.Env()).LastSeq()));
  }
  Napi::Value FreeEpoch(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Core(info.Env()).FreeEpoch());
  }
  // compaction(): [periodSeqs, retainSeqs] (period 0: never compacts)
  Napi::Value Compaction(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    Napi::Float64Array pair = Napi::Float64Array::New(info.Env(), 2);
    pair[0] = static_cast<double>(core.CompactionPeriod());
    pair[1] = static_cast<double>(core.CompactionRetain());
    return pair;
  }
  // sweptAt(seq): streams removed by the sweep of compaction point seq, or -1 when not known
  Napi::Value SweptAt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "sweptAt(seq: number)");
    const double seq = info[0].As<Napi::Number>().DoubleValue();
    uint32_t removed = 0;
    const bool integral = seq >= 1 && seq <= 1099511627775.0 && static_cast<double>(static_cast<uint64_t>(seq)) == seq;
    const bool known = integral && Core(env).SweptAt(static_cast<uint64_t>(seq), &removed);
    return Napi::Number::New(env, known ? static_cast<double>(removed) : -1.0);
  }
  // stats(): [live stream ids, stream table size]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    Napi::Float64Array values = Napi::Float64Array::New(info.Env(), 2);
    values[0] = core.LiveStreamIds();
    values[1] = core.StreamTableSize();
    return values;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }
  Napi::Value DeciderId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), decider_); }
  // claimWriter(writtenSeq): true when this object is now the core's log writer.
  Napi::Value ClaimWriter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "claimWriter(writtenSeq: number)");
    const bool claimed = Core(env).ClaimWriter(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue())) == CoreStatus::kOk;
    writer_ = writer_ || claimed;
    return Napi::Boolean::New(env, claimed);
  }
  // noteWritten(seq): the writer drained every seq up to seq (ignored from any other object).
  Napi::Value NoteWritten(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "noteWritten(seq: number)");
    RegistrarCore& core = Core(env);
    if (writer_) core.NoteWritten(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
    return env.Undefined();
  }
  // writerInfo(): [writer state (0 none, 1 live, 2 closed), written seq, 1 when this object is the writer]
  Napi::Value WriterInfo(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    Napi::Float64Array values = Napi::Float64Array::New(info.Env(), 3);
    values[0] = core.Writer();
    values[1] = static_cast<double>(core.WrittenSeq());
    values[2] = writer_ ? 1 : 0;
    return values;
  }
  // closeWriter(): the close fence's seq, or 0 (no live writer). Only the writer's object may.
  Napi::Value CloseWriter(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    return Napi::Number::New(info.Env(), writer_ ? static_cast<double>(core.CloseWriter()) : 0.0);
  }
  // halt(cause, postsBody?): the halt's seq; 0 when already halted or the cause is bad; minus the
  // Refusal when refused.
  Napi::Value Halt(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    const int32_t cause = IntArg(info, 0);
    const bool postsBody = info.Length() > 1 && info[1].ToBoolean().Value();
    registrar::Refusal refused = registrar::Refusal::kNone;
    const uint64_t seq = core.Halt(cause, decider_, postsBody, &refused);
    return Napi::Number::New(info.Env(), refused != registrar::Refusal::kNone ? -static_cast<double>(refused) : static_cast<double>(seq));
  }
  // haltInfo(): [halted 0/1, cause (-1 none or unknown), seq]
  Napi::Value HaltInfo(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    Napi::Float64Array values = Napi::Float64Array::New(info.Env(), 3);
    values[0] = core.Halted() ? 1 : 0;
    values[1] = core.HaltCauseOf();
    values[2] = static_cast<double>(core.HaltSeq());
    return values;
  }
  // postBody(seq, text): true when the body is the writer's to take (see RegistrarCore::PostBody).
  Napi::Value PostBody(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) throw Napi::TypeError::New(env, "postBody(seq: number, text: string)");
    RegistrarCore& core = Core(env);
    const double seq = info[0].As<Napi::Number>().DoubleValue();
    if (!(seq >= 1)) return Napi::Boolean::New(env, false);
    const std::string text = info[1].As<Napi::String>().Utf8Value();
    return Napi::Boolean::New(env, core.PostBody(static_cast<uint64_t>(seq), decider_, text.data(), text.size()));
  }
  // takeBodies(fromSeq, count, abandonUpTo): the bodies of seqs from fromSeq on, in order, as
  // strings, null for one given up (never posted, or seq <= abandonUpTo and not posted: given up
  // now); stops at the first not posted yet. Only the writer's object (else an empty array).
  Napi::Value TakeBodies(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
      throw Napi::TypeError::New(env, "takeBodies(fromSeq, count, abandonUpTo)");
    }
    RegistrarCore& core = Core(env);
    const auto from = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
    const uint32_t count = info[1].As<Napi::Number>().Uint32Value();
    const auto abandonUpTo = static_cast<uint64_t>(std::max(0.0, info[2].As<Napi::Number>().DoubleValue()));
    Napi::Array bodies = Napi::Array::New(env);
    if (!writer_ || from == 0) return bodies;
    std::string text;
    for (uint32_t index = 0; index < count; ++index) {
      const uint64_t seq = from + index;
      const registrar::BodyTake taken = core.TakeBody(seq, &text, seq <= abandonUpTo);
      if (taken == registrar::BodyTake::kNotYet) break;
      bodies.Set(index, taken == registrar::BodyTake::kOk ? Napi::Value(Napi::String::New(env, text)) : env.Null());
    }
    return bodies;
  }
  // setShareInfo(text): true when stored (the first time); shareInfo(): the text or undefined.
  Napi::Value SetShareInfo(const Napi::CallbackInfo& info) {
    RegistrarCore& core = Core(info.Env());
    return Napi::Boolean::New(info.Env(), core.SetShareInfo(StringArg(info, 0)));
  }
  Napi::Value ShareInfo(const Napi::CallbackInfo& info) {
    std::string text;
    const bool found = Core(info.Env()).ShareInfo(&text);
    return Key(info.Env(), found, text);
  }

  std::shared_ptr<RegistrarCore> core_;
  /** Whether this object is its core's log writer (claimWriter). */
  bool writer_ = false;
  /** This object's decider id (process-unique, nonzero). */
  uint32_t decider_ = nextDecider.fetch_add(1, std::memory_order_relaxed);
  uint32_t handle_ = 0;
  Secret secret_{};
  Napi::Reference<Napi::ArrayBuffer> io_;
  uint8_t* data_ = nullptr;
  std::shared_ptr<EnvState> env_;
};

}  // namespace

void InitRegistrar(Napi::Env env, Napi::Object exports) {
  // One EnvState per environment (main thread, each worker). The cleanup hook releases every core
  // reference the environment still holds, so a worker's exit never keeps a core alive.
  auto* state = new std::shared_ptr<EnvState>(std::make_shared<EnvState>());
  env.AddCleanupHook(
      [](std::shared_ptr<EnvState>* owned) {
        (*owned)->tornDown = true;
        for (CoreWrap* wrap : (*owned)->wraps) wrap->Release();
        (*owned)->wraps.clear();
        delete owned;
      },
      state);
  exports.Set("RegistrarCore", CoreWrap::Define(env, state));
}

}  // namespace vs::binding
