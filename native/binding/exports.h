// The Init function of each *_wrap.cc. addon.cc calls them in order.
#pragma once

#include <napi.h>

#define VOICE_SOUNDBOARD_ADDON_VERSION "1"

namespace vs::binding {

/** Registers PcmRingBuffer, AudioDevice and listBackends (audio_device_wrap.cc, ring_wrap.cc). */
void InitAudio(Napi::Env env, Napi::Object exports);

/** Registers the registrar core (registrar_wrap.cc). */
void InitRegistrar(Napi::Env env, Napi::Object exports);

/** Registers appendSealedLine, the attestation log's one-call durable append (log_append_wrap.cc). */
void InitLogAppend(Napi::Env env, Napi::Object exports);

}  // namespace vs::binding
