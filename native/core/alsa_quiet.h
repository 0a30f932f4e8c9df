// Keeps libasound from printing its own diagnostics on stderr when miniaudio probes ALSA devices
// on a machine without a sound card: the AudioDevice error already says what failed and what to do.
#pragma once

namespace vs {

/**
 * Installs a silent ALSA error handler once per process (Linux, when libasound is present).
 * Set VOICE_SOUNDBOARD_ALSA_DEBUG=1 to keep ALSA's messages.
 * Thread safety: safe from any thread (runs once). Callback safety: not for the audio callback.
 */
void QuietAlsaErrors() noexcept;

}  // namespace vs
