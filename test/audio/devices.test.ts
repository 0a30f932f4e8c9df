// Devices: listing, choosing by id or name, VOICE_SOUNDBOARD_AUDIO_BACKEND, and the fallback to the
// null backend (one warning, said in `fellBackToNull` / `info` / engine health()). The fallback is
// driven by planting an open failure of the default backend in front of the real addon.
import { describe, expect, it } from 'vitest';
import { AUDIO_BACKEND_ENV, audioBackendFromEnv, listOutputDevices } from '../../src/audio/devices.js';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import type { AudioBinding, NativeAudioDeviceOptions } from '../../src/native/audio-binding.js';
import { nativeBinding } from '../../src/native/loader.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';

const opened = closedAfterEach();

/** The real addon, except that opening the platform's default backend fails as on a machine without sound. */
function bindingWithoutSound(): { binding: AudioBinding; asked: NativeAudioDeviceOptions[] } {
  const real = nativeBinding();
  const asked: NativeAudioDeviceOptions[] = [];
  const AudioDevice = function (options: NativeAudioDeviceOptions) {
    asked.push(options);
    if (options.backend === 'default') throw Object.assign(new Error('Could not open the default audio device: No such device'), { code: 'AUDIO_DEVICE_INIT_FAILED' });
    return new real.AudioDevice(options);
  } as unknown as AudioBinding['AudioDevice'];
  return { binding: { ...real, AudioDevice }, asked };
}

describe('listOutputDevices', () => {
  it("lists the null backend's device, which opens by id and by name", () => {
    const devices = listOutputDevices({ backend: 'null' });
    expect(devices.length).toBeGreaterThan(0);
    const [device] = devices;
    expect(device).toMatchObject({ backend: 'Null', isDefault: true });
    for (const selector of [device?.id ?? '', device?.name ?? '']) {
      const output = new AudioOutput({ backend: 'null', device: selector });
      opened.push(output);
      expect(output.info).toEqual({ backend: 'Null', device: device?.name, fallback: null });
      expect(output.fellBackToNull).toBe(false);
    }
  });

  it('an unknown device is an error naming it and how to list them, never a silent fallback', () => {
    const error = (() => {
      try {
        new AudioOutput({ backend: 'null', device: 'Speakers that do not exist' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'AUDIO_DEVICE_NOT_FOUND' });
    expect((error as Error).message).toContain('Speakers that do not exist');
    expect((error as Error).message).toContain('voice-soundboard devices');
    expect(() => listOutputDevices({ backend: 'alsa' } as never)).toThrow(/options\.backend/);
  });
});

describe(AUDIO_BACKEND_ENV, () => {
  it('chooses the backend of outputs opened without one; anything else is an InputError naming it', () => {
    expect(audioBackendFromEnv({})).toBeUndefined();
    expect(audioBackendFromEnv({ [AUDIO_BACKEND_ENV]: '' })).toBeUndefined();
    expect(audioBackendFromEnv({ [AUDIO_BACKEND_ENV]: 'null' })).toBe('null');
    expect(audioBackendFromEnv({ [AUDIO_BACKEND_ENV]: 'default' })).toBe('default');
    expect(() => audioBackendFromEnv({ [AUDIO_BACKEND_ENV]: 'pulse' })).toThrow(InputError);
    expect(() => audioBackendFromEnv({ [AUDIO_BACKEND_ENV]: 'pulse' })).toThrow(new RegExp(AUDIO_BACKEND_ENV));
    const { binding, asked } = bindingWithoutSound();
    const previous = process.env[AUDIO_BACKEND_ENV];
    process.env[AUDIO_BACKEND_ENV] = 'null';
    try {
      const output = new AudioOutput({}, binding);
      opened.push(output);
      expect(asked.map((options) => options.backend)).toEqual(['null']);
      expect(output.fellBackToNull).toBe(false);
      // An explicit backend wins over the variable (here it fails, as planted).
      expect(() => new AudioOutput({ backend: 'default', fallbackToNull: false }, binding)).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_INIT_FAILED' }));
    } finally {
      if (previous === undefined) delete process.env[AUDIO_BACKEND_ENV];
      else process.env[AUDIO_BACKEND_ENV] = previous;
    }
    expect(asked.map((options) => options.backend)).toEqual(['null', 'default']);
  });
});

describe('fallback to the null backend', () => {
  it('falls back with one process warning (code VOICE_SOUNDBOARD_AUDIO_FALLBACK) and says so', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { binding } = bindingWithoutSound();
      const first = new AudioOutput({ backend: 'default' }, binding);
      const second = new AudioOutput({}, binding);
      opened.push(first, second);
      for (const output of [first, second]) {
        expect(output.fellBackToNull).toBe(true);
        expect(output.config.backend).toBe('null');
        expect(output.info.backend).toBe('Null');
        expect(output.info.fallback).toContain('AUDIO_DEVICE_INIT_FAILED');
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => (warning as Error & { code?: string }).code === 'VOICE_SOUNDBOARD_AUDIO_FALLBACK')).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('does not fall back when told not to, or when a device was named: the error carries a true hint', () => {
    const { binding } = bindingWithoutSound();
    let error: unknown;
    try {
      new AudioOutput({ backend: 'default', fallbackToNull: false }, binding);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'AUDIO_DEVICE_INIT_FAILED' });
    expect((error as Error).message).toContain("audioBackend: 'null'");
    expect((error as Error).message).toContain(`${AUDIO_BACKEND_ENV}=null`);
    expect(() => new AudioOutput({ backend: 'default', device: 'x' }, binding)).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_INIT_FAILED' }));
  });

  it("the engine's audioBackend option makes the hint true; health() reports the device", async () => {
    const engine = new VoiceEngine({ audioBackend: 'null', backend: new ConstantLevelBackend({ level: 0.5, sampleRateHz: 24_000, framesPerSegment: 2400 }) });
    opened.push(engine);
    expect((await engine.health()).audio).toBeNull();
    const result = await engine.play('A short line.');
    expect(result.durationMs).toBeGreaterThan(0);
    expect((await engine.health()).audio).toEqual({ backend: 'Null', device: expect.any(String), fallback: null });
    expect(() => new VoiceEngine({ audioBackend: 'pulse' } as never)).toThrow(/audioBackend/);
  });
});
