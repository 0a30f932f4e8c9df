// AudioDevice for JS. Every method is synchronous and bounded (start/stop/close wait at most about
// one device period for miniaudio's thread). Voices are addressed by their numeric id; events are
// drained into a caller's Float64Array (4 numbers per event: voice id, kind, device frame, voice frame). Per-environment state (the devices this env opened)
// travels as the class's data pointer; an env cleanup hook closes them, so a worker_threads Worker
// or a process that exits without close() joins every device thread first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "audio_device.h"
#include "audio_wrap.h"
#include "stream_watch_wrap.h"

namespace vs::binding {
namespace {

class DeviceWrap;

// The devices of one Node environment. Owned jointly by the cleanup hook and every DeviceWrap,
// because finalizers may run after the hook during env teardown.
struct AudioEnvState {
  std::unordered_set<DeviceWrap*> liveDevices;
  bool tornDown = false;
};

class DeviceWrap : public Napi::ObjectWrap<DeviceWrap> {
 public:
  static Napi::Function Define(Napi::Env env, std::shared_ptr<AudioEnvState>* state) {
    return DefineClass(env, "AudioDevice",
                       {
                           InstanceMethod<&DeviceWrap::Write>("write"),
                           InstanceMethod<&DeviceWrap::Start>("start"),
                           InstanceMethod<&DeviceWrap::Stop>("stop"),
                           InstanceMethod<&DeviceWrap::Close>("close"),
                           InstanceMethod<&DeviceWrap::Interrupt>("interrupt"),
                           InstanceMethod<&DeviceWrap::Resume>("resume"),
                           InstanceMethod<&DeviceWrap::Stats>("stats"),
                           InstanceMethod<&DeviceWrap::ReadCapture>("readCapture"),
                           InstanceMethod<&DeviceWrap::RenderForBenchmark>("renderForBenchmark"),
                           InstanceMethod<&DeviceWrap::OpenVoice>("openVoice"),
                           InstanceMethod<&DeviceWrap::VoiceWrite>("voiceWrite"),
                           InstanceMethod<&DeviceWrap::VoiceEnd>("voiceEnd"),
                           InstanceMethod<&DeviceWrap::VoiceInterrupt>("voiceInterrupt"),
                           InstanceMethod<&DeviceWrap::VoiceWatch>("voiceWatch"),
                           InstanceMethod<&DeviceWrap::VoiceSetGain>("voiceSetGain"),
                           InstanceMethod<&DeviceWrap::VoiceStats>("voiceStats"),
                           InstanceMethod<&DeviceWrap::VoiceClose>("voiceClose"),
                           InstanceMethod<&DeviceWrap::PollEvents>("pollEvents"),
                           InstanceAccessor<&DeviceWrap::FadeFrames>("fadeFrames"),
                           InstanceAccessor<&DeviceWrap::BackendName>("backendName"),
                           InstanceAccessor<&DeviceWrap::DeviceName>("deviceName"),
                       },
                       state);
  }

  // new AudioDevice({ backend, sampleRateHz, channels, periodFrames, bufferFrames, captureFrames })
  explicit DeviceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceWrap>(info) {
    Napi::Env env = info.Env();
    state_ = *static_cast<std::shared_ptr<AudioEnvState>*>(info.Data());
    if (state_->tornDown) ThrowCoded(env, "AUDIO_ENV_TORN_DOWN", "The Node environment is shutting down");
    if (info.Length() < 1 || !info[0].IsObject()) {
      ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "AudioDevice options must be an object");
    }
    const Napi::Object options = info[0].As<Napi::Object>();
    AudioDeviceConfig config;
    const Napi::Value backend = options.Get("backend");
    const std::string backendName = backend.IsString() ? backend.As<Napi::String>().Utf8Value() : "";
    if (backendName == "null") {
      config.backend = AudioBackendChoice::kNull;
    } else if (backendName == "default") {
      config.backend = AudioBackendChoice::kSystemDefault;
    } else {
      ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "options.backend must be \"default\" or \"null\"");
    }
    config.sampleRateHz = Field(options, "sampleRateHz");
    config.channels = Field(options, "channels");
    config.periodFrames = Field(options, "periodFrames");
    config.bufferFrames = Field(options, "bufferFrames");
    config.captureFrames = Field(options, "captureFrames");
    const Napi::Value deviceSelector = options.Get("device");
    if (deviceSelector.IsString()) {
      config.device = deviceSelector.As<Napi::String>().Utf8Value();
    } else if (!deviceSelector.IsUndefined() && !deviceSelector.IsNull()) {
      ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "options.device must be a string");
    }

    const char* detail = nullptr;
    const AudioStatus status = AudioDevice::Open(config, &device_, &detail);
    if (status != AudioStatus::kOk) {
      ThrowCoded(env, AudioStatusName(status),
                 std::string("Could not open the ") + backendName + " audio device" +
                     (config.device.empty() ? "" : " \"" + config.device + "\"") + ": " +
                     (detail != nullptr ? detail : AudioStatusName(status)));
    }
    state_->liveDevices.insert(this);
  }

  ~DeviceWrap() override {
    if (device_) device_->Close();
    state_->liveDevices.erase(this);
  }

  // Called by the env cleanup hook: joins the device thread before the environment goes away.
  void CloseForTeardown() noexcept {
    if (device_) device_->Close();
    closed_ = true;
  }

 private:
  static uint32_t Field(const Napi::Object& options, const char* name) {
    const Napi::Value value = options.Get(name);
    if (value.IsNumber()) {
      const double number = value.As<Napi::Number>().DoubleValue();
      if (std::isfinite(number) && number >= 0 && number <= 4294967295.0 && std::floor(number) == number) {
        return static_cast<uint32_t>(number);
      }
    }
    ThrowCoded(options.Env(), "AUDIO_INVALID_ARGUMENT", std::string("options.") + name + " must be a non-negative integer");
  }

  void Check(Napi::Env env, AudioStatus status, const char* what) const {
    if (status == AudioStatus::kOk) return;
    ThrowCoded(env, AudioStatusName(status), std::string("AudioDevice.") + what + " failed: " + AudioStatusName(status));
  }

  void RequireOpen(Napi::Env env, const char* what) const {
    if (closed_) ThrowCoded(env, "AUDIO_DEVICE_CLOSED", std::string("AudioDevice.") + what + ": the device is closed");
  }

  size_t WholeFrames(Napi::Env env, const Napi::Float32Array& pcm) const {
    const uint32_t channels = device_->Config().channels;
    if (pcm.ElementLength() % channels != 0) {
      ThrowCoded(env, "AUDIO_PCM_MISALIGNED",
                 "PCM length " + std::to_string(pcm.ElementLength()) + " is not a multiple of " +
                     std::to_string(channels) + " channels");
    }
    return pcm.ElementLength() / channels;
  }

  // write(pcm: Float32Array): frames accepted (0 when the ring is full).
  Napi::Value Write(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "write");
    const Napi::Float32Array pcm = Float32ArrayArgument(info, 0, "pcm");
    size_t accepted = 0;
    Check(info.Env(), device_->Write(pcm.Data(), WholeFrames(info.Env(), pcm), &accepted), "write");
    return Napi::Number::New(info.Env(), static_cast<double>(accepted));
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "start");
    Check(info.Env(), device_->Start(), "start");
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "stop");
    Check(info.Env(), device_->Stop(), "stop");
    return info.Env().Undefined();
  }

  // close(): idempotent; the counters stay readable through stats().
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (device_) device_->Close();
    closed_ = true;
    return info.Env().Undefined();
  }

  // interrupt(): the new interrupt generation.
  Napi::Value Interrupt(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "interrupt");
    return Napi::Number::New(info.Env(), device_->Interrupt());
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "resume");
    Check(info.Env(), device_->Resume(), "resume");
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const AudioDeviceStats stats = device_->Stats();
    Napi::Object result = Napi::Object::New(env);
    auto number = [&](const char* name, double value) { result.Set(name, Napi::Number::New(env, value)); };
    number("framesPlayed", static_cast<double>(stats.framesPlayed));
    number("underruns", static_cast<double>(stats.underruns));
    number("starvedFrames", static_cast<double>(stats.starvedFrames));
    number("droppedFrames", static_cast<double>(stats.droppedFrames));
    number("captureOverflowFrames", static_cast<double>(stats.captureOverflowFrames));
    number("callbacks", static_cast<double>(stats.callbacks));
    number("deviceFrames", static_cast<double>(stats.deviceFrames));
    number("liveVoices", stats.liveVoices);
    number("droppedEvents", static_cast<double>(stats.droppedEvents));
    number("bufferedFrames", static_cast<double>(stats.bufferedFrames));
    number("interruptGeneration", stats.interruptGeneration);
    number("completedInterruptGeneration", stats.completedInterruptGeneration);
    if (stats.nanosSinceLastCallback < 0) {
      result.Set("msSinceLastCallback", env.Null());
    } else {
      number("msSinceLastCallback", static_cast<double>(stats.nanosSinceLastCallback) / 1e6);
    }
    result.Set("interrupted", Napi::Boolean::New(env, stats.interrupted));
    result.Set("started", Napi::Boolean::New(env, stats.started && !closed_));
    result.Set("closed", Napi::Boolean::New(env, closed_));
    return result;
  }

  // readCapture(out: Float32Array): frames of device output copied into out.
  Napi::Value ReadCapture(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "readCapture");
    Napi::Float32Array out = Float32ArrayArgument(info, 0, "out");
    size_t copied = 0;
    Check(info.Env(), device_->ReadCapture(out.Data(), WholeFrames(info.Env(), out), &copied), "readCapture");
    return Napi::Number::New(info.Env(), static_cast<double>(copied));
  }

  // renderForBenchmark(frames): runs the callback's render function once on this thread (device
  // stopped) and returns the nanoseconds it took, measured in C++ around the call.
  Napi::Value RenderForBenchmark(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "renderForBenchmark");
    const uint32_t frames = FramesArgument(info, 0, "frames", device_->Config().sampleRateHz);
    scratch_.resize(static_cast<size_t>(frames) * device_->Config().channels);
    const auto started = std::chrono::steady_clock::now();
    const AudioStatus status = device_->RenderWhileStopped(scratch_.data(), frames);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    Check(info.Env(), status, "renderForBenchmark");
    return Napi::Number::New(info.Env(),
                             static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
  }

  Napi::Value FadeFrames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), device_->FadeFrames());
  }

  Napi::Value BackendName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), device_->BackendName());
  }

  Napi::Value DeviceName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), device_->DeviceName());
  }

  static double Number(const Napi::CallbackInfo& info, size_t index, const char* what) {
    if (info.Length() > index && info[index].IsNumber()) {
      const double value = info[index].As<Napi::Number>().DoubleValue();
      if (std::isfinite(value)) return value;
    }
    ThrowCoded(info.Env(), "AUDIO_INVALID_ARGUMENT", std::string(what) + " must be a finite number");
  }

  uint32_t VoiceId(const Napi::CallbackInfo& info) const {
    return FramesArgument(info, 0, "voice id", 0xffffffffu);
  }

  // openVoice(bufferFrames, gain): the new voice's id.
  Napi::Value OpenVoice(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "openVoice");
    const uint32_t bufferFrames = FramesArgument(info, 0, "bufferFrames", 1u << 26);
    const auto gain = static_cast<float>(Number(info, 1, "gain"));
    uint32_t id = 0;
    Check(info.Env(), device_->OpenVoice(bufferFrames, gain, &id), "openVoice");
    return Napi::Number::New(info.Env(), id);
  }

  // voiceWrite(id, pcm): frames accepted (0 when the voice's ring is full).
  Napi::Value VoiceWrite(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "voiceWrite");
    const uint32_t id = VoiceId(info);
    const Napi::Float32Array pcm = Float32ArrayArgument(info, 1, "pcm");
    size_t accepted = 0;
    Check(info.Env(), device_->WriteVoice(id, pcm.Data(), WholeFrames(info.Env(), pcm), &accepted), "voiceWrite");
    return Napi::Number::New(info.Env(), static_cast<double>(accepted));
  }

  Napi::Value VoiceEnd(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "voiceEnd");
    Check(info.Env(), device_->EndVoice(VoiceId(info)), "voiceEnd");
    return info.Env().Undefined();
  }

  Napi::Value VoiceInterrupt(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "voiceInterrupt");
    Check(info.Env(), device_->InterruptVoice(VoiceId(info)), "voiceInterrupt");
    return info.Env().Undefined();
  }

  // voiceWatch(id, watch): true when the voice now follows the stream; false when its core is gone.
  Napi::Value VoiceWatch(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "voiceWatch");
    const uint32_t id = VoiceId(info);
    StreamWatchTarget target;
    std::shared_ptr<const void> owner;
    if (!LockStreamWatch(info.Env(), info[1], &target, &owner)) return Napi::Boolean::New(info.Env(), false);
    Check(info.Env(), device_->WatchVoice(id, target, std::move(owner)), "voiceWatch");
    return Napi::Boolean::New(info.Env(), true);
  }

  // voiceSetGain(id, gain, rampFrames)
  Napi::Value VoiceSetGain(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "voiceSetGain");
    const uint32_t id = VoiceId(info);
    const auto gain = static_cast<float>(Number(info, 1, "gain"));
    const uint32_t rampFrames = FramesArgument(info, 2, "rampFrames", 1u << 26);
    Check(info.Env(), device_->SetVoiceGain(id, gain, rampFrames), "voiceSetGain");
    return info.Env().Undefined();
  }

  Napi::Value VoiceStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "voiceStats");
    vs::VoiceStats stats;
    Check(env, device_->VoiceStatsOf(VoiceId(info), &stats), "voiceStats");
    Napi::Object result = Napi::Object::New(env);
    result.Set("framesPlayed", Napi::Number::New(env, static_cast<double>(stats.framesPlayed)));
    result.Set("underruns", Napi::Number::New(env, static_cast<double>(stats.underruns)));
    result.Set("droppedFrames", Napi::Number::New(env, static_cast<double>(stats.droppedFrames)));
    result.Set("bufferedFrames", Napi::Number::New(env, static_cast<double>(stats.bufferedFrames)));
    result.Set("phase", Napi::Number::New(env, static_cast<double>(stats.phase)));
    result.Set("ended", Napi::Boolean::New(env, stats.ended));
    result.Set("interruptRequested", Napi::Boolean::New(env, stats.interruptRequested));
    return result;
  }

  // voiceClose(id): true when it retired a voice, false when none had that id (idempotent).
  Napi::Value VoiceClose(const Napi::CallbackInfo& info) {
    if (closed_) return Napi::Boolean::New(info.Env(), false);
    const AudioStatus status = device_->CloseVoice(VoiceId(info));
    return Napi::Boolean::New(info.Env(), status == AudioStatus::kOk);
  }

  // pollEvents(out: Float64Array): events copied, 4 numbers each (voice id, kind, device frame, voice frame).
  Napi::Value PollEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "pollEvents: out must be a Float64Array");
    }
    Napi::Float64Array out = info[0].As<Napi::Float64Array>();
    if (closed_) return Napi::Number::New(env, 0);
    const size_t capacity = std::min<size_t>(out.ElementLength() / 4, events_.size());
    const size_t count = device_->PollEvents(events_.data(), capacity);
    double* data = out.Data();
    for (size_t i = 0; i < count; ++i) {
      data[i * 4] = events_[i].voiceId;
      data[i * 4 + 1] = static_cast<double>(events_[i].kind);
      data[i * 4 + 2] = static_cast<double>(events_[i].deviceFrame);
      data[i * 4 + 3] = static_cast<double>(events_[i].voiceFrame);
    }
    return Napi::Number::New(env, static_cast<double>(count));
  }

  std::shared_ptr<AudioEnvState> state_;
  std::unique_ptr<AudioDevice> device_;
  std::vector<float> scratch_;  // renderForBenchmark's output (allocated on the JS thread)
  std::vector<VoiceEvent> events_ = std::vector<VoiceEvent>(1024);  // pollEvents' staging
  bool closed_ = false;
};

// listOutputDevices(backend): [{ id, name, isDefault, backend }] of "default" or "null".
Napi::Value ListOutputDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string backendName = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (backendName != "null" && backendName != "default") {
    ThrowCoded(env, "AUDIO_INVALID_ARGUMENT", "listOutputDevices: backend must be \"default\" or \"null\"");
  }
  std::vector<OutputDeviceInfo> devices;
  const char* detail = nullptr;
  const AudioStatus status = AudioDevice::ListOutputDevices(
      backendName == "null" ? AudioBackendChoice::kNull : AudioBackendChoice::kSystemDefault, &devices, &detail);
  if (status != AudioStatus::kOk) {
    ThrowCoded(env, AudioStatusName(status),
               "Could not list the " + backendName + " backend's devices: " + (detail != nullptr ? detail : AudioStatusName(status)));
  }
  Napi::Array result = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("id", Napi::String::New(env, devices[i].id));
    entry.Set("name", Napi::String::New(env, devices[i].name));
    entry.Set("isDefault", Napi::Boolean::New(env, devices[i].isDefault));
    entry.Set("backend", Napi::String::New(env, devices[i].backend));
    result.Set(static_cast<uint32_t>(i), entry);
  }
  return result;
}

void CleanupEnv(void* arg) {
  auto* state = static_cast<std::shared_ptr<AudioEnvState>*>(arg);
  (*state)->tornDown = true;
  for (DeviceWrap* device : (*state)->liveDevices) device->CloseForTeardown();
  delete state;
}

}  // namespace

void InitAudioDevice(Napi::Env env, Napi::Object exports) {
  // One heap-held shared_ptr per env: the class data pointer and the cleanup hook's argument.
  auto* state = new std::shared_ptr<AudioEnvState>(std::make_shared<AudioEnvState>());
  exports.Set("AudioDevice", DeviceWrap::Define(env, state));
  exports.Set("listOutputDevices", Napi::Function::New(env, ListOutputDevices, "listOutputDevices"));
  napi_status status = napi_add_env_cleanup_hook(env, CleanupEnv, state);
  if (status != napi_ok) {
    delete state;
    ThrowCoded(env, "AUDIO_ENV_HOOK_FAILED", "Could not register the audio env cleanup hook");
  }
}

}  // namespace vs::binding
