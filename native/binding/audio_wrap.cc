// Placeholder until the audio plane is bound: registers nothing.
#include "exports.h"

namespace vs::binding {

void InitAudio(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace vs::binding
