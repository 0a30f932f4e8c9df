// PcmRingBuffer for JS: the same SPSC ring the device uses, with both ends on the calling thread
// (semantics tests and the throughput benchmark).
#include <memory>

#include "audio_wrap.h"
#include "pcm_ring_buffer.h"

namespace vs::binding {
namespace {

class RingWrap : public Napi::ObjectWrap<RingWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PcmRingBuffer",
                       {
                           InstanceMethod<&RingWrap::Write>("write"),
                           InstanceMethod<&RingWrap::Read>("read"),
                           InstanceMethod<&RingWrap::DiscardAll>("discardAll"),
                           InstanceMethod<&RingWrap::AvailableToRead>("availableToRead"),
                           InstanceMethod<&RingWrap::AvailableToWrite>("availableToWrite"),
                           InstanceAccessor<&RingWrap::CapacityFrames>("capacityFrames"),
                           InstanceAccessor<&RingWrap::Channels>("channels"),
                       });
  }

  // new PcmRingBuffer(capacityFrames, channels)
  explicit RingWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingWrap>(info) {
    const uint32_t capacityFrames = FramesArgument(info, 0, "capacityFrames", PcmRingBuffer::kMaxCapacityFrames);
    const uint32_t channels = FramesArgument(info, 1, "channels", PcmRingBuffer::kMaxChannels);
    const RingStatus status = PcmRingBuffer::Create(capacityFrames, channels, &ring_);
    if (status != RingStatus::kOk) {
      ThrowCoded(info.Env(), RingStatusName(status),
                 "PcmRingBuffer: capacityFrames must be 1..2^26 and channels 1..32");
    }
  }

 private:
  // write(pcm: Float32Array): frames accepted.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    const Napi::Float32Array pcm = Float32ArrayArgument(info, 0, "pcm");
    const size_t frames = WholeFrames(info.Env(), pcm);
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->Write(pcm.Data(), frames)));
  }

  // read(out: Float32Array): frames copied into out.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Float32Array out = Float32ArrayArgument(info, 0, "out");
    const size_t frames = WholeFrames(info.Env(), out);
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->Read(out.Data(), frames)));
  }

  Napi::Value DiscardAll(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->DiscardAll()));
  }
  Napi::Value AvailableToRead(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->AvailableToRead()));
  }
  Napi::Value AvailableToWrite(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ring_->AvailableToWrite()));
  }
  Napi::Value CapacityFrames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ring_->CapacityFrames());
  }
  Napi::Value Channels(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ring_->Channels());
  }

  size_t WholeFrames(Napi::Env env, const Napi::Float32Array& pcm) const {
    if (pcm.ElementLength() % ring_->Channels() != 0) {
      ThrowCoded(env, "AUDIO_PCM_MISALIGNED",
                 "PCM length " + std::to_string(pcm.ElementLength()) + " is not a multiple of " +
                     std::to_string(ring_->Channels()) + " channels");
    }
    return pcm.ElementLength() / ring_->Channels();
  }

  std::unique_ptr<PcmRingBuffer> ring_;
};

}  // namespace

void InitPcmRingBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("PcmRingBuffer", RingWrap::Define(env));
}

}  // namespace vs::binding
