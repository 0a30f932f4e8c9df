// The playback devices a miniaudio backend offers: listing them, naming them with a stable string
// id, and finding the one a user chose (by id or by name). Control thread only; never used from
// the audio callback (it allocates and asks the backend).
#pragma once

#include <string>
#include <vector>

#include "audio_device.h"
#include "ma_setup.h"

namespace vs {

/**
 * The playback devices of an initialised context, appended to `out`. Returns false when the backend
 * cannot enumerate them (`*result` gets miniaudio's code).
 * Thread safety: control thread. Callback safety: no (allocates, queries the backend).
 */
bool ListPlaybackDevices(ma_context* context, std::vector<OutputDeviceInfo>* out, ma_result* result);

/**
 * Finds the playback device whose id (first) or name (then) equals `selector`; copies its
 * miniaudio id into `*id`. Returns false when none matches or the backend cannot enumerate.
 * Thread safety: control thread. Callback safety: no.
 */
bool FindPlaybackDevice(ma_context* context, const std::string& selector, ma_device_id* id);

}  // namespace vs
