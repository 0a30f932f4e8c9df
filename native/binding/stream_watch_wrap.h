// The opaque JS object that carries a registrar stream's watch (native/core/stream_watch.h) from
// the registrar's binding (registrar_wrap.cc: RegistrarCore#watchStream) to the audio device's
// (audio_device_wrap.cc: AudioDevice#voiceWatch). Only converts values: the watch logic is in core.
//
// The object is a frozen, empty JS object tagged with a private napi type tag and wrapping a weak
// reference to the core plus the word addresses: no JS code can forge one (the tag is checked
// before anything is unwrapped), read the addresses, or keep the core alive with it. The voice that
// arms the watch takes the strong reference (AudioDevice::WatchVoice).
#pragma once

#include <napi.h>

#include <memory>

#include "stream_watch.h"

namespace vs::binding {

/** A new watch object for `target`, a stream of the core `core` (held weakly). */
Napi::Object NewStreamWatch(Napi::Env env, const std::shared_ptr<const void>& core, const StreamWatchTarget& target);

/**
 * The target and a strong reference to its core behind the watch object `value`. False when the
 * core is gone (nothing to watch: its streams cannot play). Throws AUDIO_INVALID_ARGUMENT when
 * `value` is not a watch object.
 */
bool LockStreamWatch(Napi::Env env, Napi::Value value, StreamWatchTarget* target, std::shared_ptr<const void>* owner);

}  // namespace vs::binding
