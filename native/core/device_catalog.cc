#include "device_catalog.h"

#include <cstdio>
#include <cstring>

namespace vs {
namespace {

std::string BoundedString(const char* text, size_t capacity) {
  return std::string(text, strnlen(text, capacity));
}

std::string Hex(const void* bytes, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  const auto* data = static_cast<const unsigned char*>(bytes);
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

// The backend's own device id as text: strings as they are, numbers in decimal, GUIDs in hex.
std::string DeviceIdText(ma_backend backend, const ma_device_id& id) {
  switch (backend) {
    case ma_backend_alsa: return BoundedString(id.alsa, sizeof id.alsa);
    case ma_backend_pulseaudio: return BoundedString(id.pulse, sizeof id.pulse);
    case ma_backend_coreaudio: return BoundedString(id.coreaudio, sizeof id.coreaudio);
    case ma_backend_sndio: return BoundedString(id.sndio, sizeof id.sndio);
    case ma_backend_audio4: return BoundedString(id.audio4, sizeof id.audio4);
    case ma_backend_oss: return BoundedString(id.oss, sizeof id.oss);
    case ma_backend_webaudio: return BoundedString(id.webaudio, sizeof id.webaudio);
    case ma_backend_jack: return "jack:" + std::to_string(id.jack);
    case ma_backend_aaudio: return "aaudio:" + std::to_string(id.aaudio);
    case ma_backend_opensl: return "opensl:" + std::to_string(id.opensl);
    case ma_backend_winmm: return "winmm:" + std::to_string(id.winmm);
    case ma_backend_dsound: return "dsound:" + Hex(id.dsound, sizeof id.dsound);
    case ma_backend_wasapi: {
      std::string text = "wasapi:";
      for (size_t i = 0; i < sizeof id.wasapi / sizeof id.wasapi[0] && id.wasapi[i] != 0; ++i) {
        const auto unit = static_cast<unsigned>(id.wasapi[i]);
        if (unit < 128) text.push_back(static_cast<char>(unit));
        else text += "\\u" + Hex(&id.wasapi[i], sizeof id.wasapi[i]);
      }
      return text;
    }
    case ma_backend_null: return "null:" + std::to_string(id.nullbackend);
    default: return "custom:" + std::to_string(id.custom.i);
  }
}

}  // namespace

bool ListPlaybackDevices(ma_context* context, std::vector<OutputDeviceInfo>* out, ma_result* result) {
  ma_device_info* playback = nullptr;
  ma_uint32 playbackCount = 0;
  *result = ma_context_get_devices(context, &playback, &playbackCount, nullptr, nullptr);
  if (*result != MA_SUCCESS) return false;
  const char* backendName = ma_get_backend_name(context->backend);
  for (ma_uint32 i = 0; i < playbackCount; ++i) {
    OutputDeviceInfo info;
    info.id = DeviceIdText(context->backend, playback[i].id);
    info.name = BoundedString(playback[i].name, sizeof playback[i].name);
    info.isDefault = playback[i].isDefault != MA_FALSE;
    info.backend = backendName;
    out->push_back(std::move(info));
  }
  return true;
}

bool FindPlaybackDevice(ma_context* context, const std::string& selector, ma_device_id* id) {
  ma_device_info* playback = nullptr;
  ma_uint32 playbackCount = 0;
  if (ma_context_get_devices(context, &playback, &playbackCount, nullptr, nullptr) != MA_SUCCESS) return false;
  for (ma_uint32 i = 0; i < playbackCount; ++i) {
    if (DeviceIdText(context->backend, playback[i].id) == selector) {
      *id = playback[i].id;
      return true;
    }
  }
  for (ma_uint32 i = 0; i < playbackCount; ++i) {
    if (BoundedString(playback[i].name, sizeof playback[i].name) == selector) {
      *id = playback[i].id;
      return true;
    }
  }
  return false;
}

}  // namespace vs
