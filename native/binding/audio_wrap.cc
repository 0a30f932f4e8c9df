// Entry point of the audio plane's binding: PcmRingBuffer, AudioDevice and listBackends().
#include "audio_wrap.h"

#include <cmath>

#include "audio_device.h"
#include "exports.h"

namespace vs::binding {

void ThrowCoded(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

Napi::Float32Array Float32ArrayArgument(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowCoded(info.Env(), "AUDIO_INVALID_ARGUMENT", std::string(what) + " must be a Float32Array");
  }
  return info[index].As<Napi::Float32Array>();
}

uint32_t FramesArgument(const Napi::CallbackInfo& info, size_t index, const char* what, uint32_t max) {
  if (info.Length() > index && info[index].IsNumber()) {
    const double value = info[index].As<Napi::Number>().DoubleValue();
    if (std::isfinite(value) && value >= 0 && value <= max && std::floor(value) == value) {
      return static_cast<uint32_t>(value);
    }
  }
  ThrowCoded(info.Env(), "AUDIO_INVALID_ARGUMENT",
             std::string(what) + " must be an integer between 0 and " + std::to_string(max));
}

namespace {

Napi::Value ListBackends(const Napi::CallbackInfo& info) {
  const char* names[64] = {};
  const size_t count = AudioDevice::EnabledBackendNames(names, 64);
  Napi::Array result = Napi::Array::New(info.Env());
  for (size_t i = 0; i < count && i < 64; ++i) {
    result.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), names[i]));
  }
  return result;
}

}  // namespace

void InitAudio(Napi::Env env, Napi::Object exports) {
  InitPcmRingBuffer(env, exports);
  InitAudioDevice(env, exports);
  exports.Set("listBackends", Napi::Function::New(env, ListBackends, "listBackends"));
}

}  // namespace vs::binding
