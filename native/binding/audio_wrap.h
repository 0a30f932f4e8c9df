// Shared by the audio plane's wraps (audio_wrap.cc, ring_wrap.cc, audio_device_wrap.cc): value
// and status conversion only. No audio logic lives in native/binding/.
#pragma once

#include <napi.h>

#include <string>

namespace vs::binding {

/** Throws a JS Error whose `code` is `code` (a stable string such as "AUDIO_DEVICE_CLOSED"). */
[[noreturn]] void ThrowCoded(Napi::Env env, const char* code, const std::string& message);

/** The Float32Array at `info[index]`, or a thrown AUDIO_INVALID_ARGUMENT naming `what`. */
Napi::Float32Array Float32ArrayArgument(const Napi::CallbackInfo& info, size_t index, const char* what);

/** The non-negative integer at `info[index]` (at most `max`), or a thrown AUDIO_INVALID_ARGUMENT. */
uint32_t FramesArgument(const Napi::CallbackInfo& info, size_t index, const char* what, uint32_t max);

/** Registers the PcmRingBuffer class (ring_wrap.cc). */
void InitPcmRingBuffer(Napi::Env env, Napi::Object exports);

/** Registers the AudioDevice class and its env cleanup hook (audio_device_wrap.cc). */
void InitAudioDevice(Napi::Env env, Napi::Object exports);

}  // namespace vs::binding
