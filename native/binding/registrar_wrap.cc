// Placeholder until the registrar core is bound (issue 3): registers nothing.
#include "exports.h"

namespace vs::binding {

void InitRegistrar(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace vs::binding
