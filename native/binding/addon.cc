// Module init for the voice_soundboard addon. Each *_wrap.cc exports one Init function, declared
// in exports.h; this file only calls them. Per-environment state lives in each wrap's instance
// data and cleanup hooks, so the addon loads in several worker_threads at once.
#include <napi.h>

#include "exports.h"

namespace {

Napi::Value AddonVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), VOICE_SOUNDBOARD_ADDON_VERSION);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("addonVersion", Napi::Function::New(env, AddonVersion, "addonVersion"));
  vs::binding::InitAudio(env, exports);
  vs::binding::InitRegistrar(env, exports);
  vs::binding::InitLogAppend(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(voice_soundboard, Init)
