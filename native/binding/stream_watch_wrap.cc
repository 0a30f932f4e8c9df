// Watch objects (stream_watch_wrap.h): a type-tagged, frozen JS object wrapping a WatchGrant.
#include "stream_watch_wrap.h"

#include "audio_wrap.h"

namespace vs::binding {
namespace {

/** What a watch object wraps. */
struct WatchGrant {
  std::weak_ptr<const void> core;
  StreamWatchTarget target;
};

// Random, fixed: marks objects made by NewStreamWatch (napi_check_object_type_tag).
constexpr napi_type_tag kWatchTag = {0x6c0f3e9a51d24b77ULL, 0x9e2b84c1f07a3d55ULL};

void Check(Napi::Env env, napi_status status, const char* what) {
  if (status != napi_ok) ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", std::string("stream watch: ") + what + " failed");
}

}  // namespace

Napi::Object NewStreamWatch(Napi::Env env, const std::shared_ptr<const void>& core, const StreamWatchTarget& target) {
  Napi::Object object = Napi::Object::New(env);
  auto* grant = new WatchGrant{core, target};
  const napi_status wrapped = napi_wrap(
      env, object, grant, [](napi_env, void* data, void*) { delete static_cast<WatchGrant*>(data); }, nullptr, nullptr);
  if (wrapped != napi_ok) {
    delete grant;
    Check(env, wrapped, "wrap");
  }
  Check(env, napi_type_tag_object(env, object, &kWatchTag), "tag");
  Check(env, napi_object_freeze(env, object), "freeze");
  return object;
}

bool LockStreamWatch(Napi::Env env, Napi::Value value, StreamWatchTarget* target, std::shared_ptr<const void>* owner) {
  bool tagged = false;
  if (value.IsObject()) Check(env, napi_check_object_type_tag(env, value, &kWatchTag, &tagged), "tag check");
  if (!tagged) ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "watch must be a stream watch made by a native registrar core");
  void* data = nullptr;
  Check(env, napi_unwrap(env, value, &data), "unwrap");
  const auto* grant = static_cast<const WatchGrant*>(data);
  *owner = grant->core.lock();
  if (!*owner) return false;
  *target = grant->target;
  return true;
}

}  // namespace vs::binding
