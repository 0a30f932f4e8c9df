#include "alsa_quiet.h"

#include <cstdlib>
#include <mutex>

#if defined(__linux__)
#include <dlfcn.h>
#endif

namespace vs {

#if defined(__linux__)
namespace {

// Same signature as ALSA's snd_lib_error_handler_t; ignores everything.
extern "C" void SilentAlsaHandler(const char* /*file*/, int /*line*/, const char* /*function*/, int /*err*/,
                                  const char* /*fmt*/, ...) {}

using SetHandler = int (*)(void (*)(const char*, int, const char*, int, const char*, ...));

void Install() noexcept {
  const char* debug = std::getenv("VOICE_SOUNDBOARD_ALSA_DEBUG");
  if (debug != nullptr && debug[0] != '\0' && debug[0] != '0') return;
  // The same library miniaudio opens later; the handle is kept for the life of the process so the
  // handler stays installed.
  void* library = dlopen("libasound.so.2", RTLD_NOW | RTLD_GLOBAL);
  if (library == nullptr) return;
  auto setHandler = reinterpret_cast<SetHandler>(dlsym(library, "snd_lib_error_set_handler"));
  if (setHandler != nullptr) setHandler(&SilentAlsaHandler);
}

}  // namespace

void QuietAlsaErrors() noexcept {
  static std::once_flag once;
  std::call_once(once, Install);
}
#else
void QuietAlsaErrors() noexcept {}
#endif

}  // namespace vs
