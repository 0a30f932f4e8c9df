import { describe, expect, it } from 'vitest';
import type { NativeAudioDeviceOptions } from '../../src/native/audio-binding.js';
import { nativeBinding } from '../../src/native/loader.js';

const { AudioDevice } = nativeBinding();
const NULL_DEVICE: NativeAudioDeviceOptions = {
  backend: 'null',
  sampleRateHz: 48_000,
  channels: 2,
  periodFrames: 240,
  bufferFrames: 4800,
  captureFrames: 0,
};

describe('AudioDevice binding', () => {
  it('voice calls turn core statuses into coded Errors; closed devices refuse them', () => {
    const device = new AudioDevice(NULL_DEVICE);
    try {
      expect(() => device.openVoice(480, 100)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_GAIN' }));
      expect(() => device.openVoice(0, 1)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_BUFFER_SIZE' }));
      expect(() => device.voiceWrite(12345, new Float32Array(2))).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_CLOSED' }));
      const id = device.openVoice(480, 1);
      expect(() => device.voiceWrite(id, new Float32Array(3))).toThrow(expect.objectContaining({ code: 'AUDIO_PCM_MISALIGNED' }));
      expect(() => device.voiceSetGain(id, Number.NaN, 0)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT' }));
      expect(() => device.pollEvents(new Float32Array(8) as unknown as Float64Array)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT' }));
      expect(device.voiceWrite(id, new Float32Array(2 * 100))).toBe(100);
      device.voiceEnd(id);
      expect(() => device.voiceWrite(id, new Float32Array(2))).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_ENDED' }));
      expect(device.voiceStats(id)).toMatchObject({ bufferedFrames: 100, phase: 0, ended: true });
      expect(device.voiceClose(id)).toBe(true);
      expect(device.voiceClose(id)).toBe(false);
      expect(device.stats()).toMatchObject({ liveVoices: 0, droppedEvents: 0 });
    } finally {
      device.close();
    }
    expect(() => device.openVoice(480, 1)).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_CLOSED' }));
    expect(device.pollEvents(new Float64Array(8))).toBe(0);
  });

  it('turns core statuses into Errors with string codes (C++ validation, not only zod)', () => {
    expect(() => new AudioDevice({ ...NULL_DEVICE, sampleRateHz: 100 })).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID_SAMPLE_RATE', message: expect.stringContaining('sampleRateHz') }),
    );
    expect(() => new AudioDevice({ ...NULL_DEVICE, bufferFrames: 10 })).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID_BUFFER_SIZE' }),
    );
    expect(() => new AudioDevice({ ...NULL_DEVICE, backend: 'alsa' as 'null' })).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT', message: expect.stringContaining('options.backend') }),
    );
    expect(() => new AudioDevice({ ...NULL_DEVICE, channels: -1 })).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT', message: expect.stringContaining('options.channels') }),
    );
  });

  it('renders a period on the calling thread for benchmarks, only while stopped', () => {
    const device = new AudioDevice(NULL_DEVICE);
    try {
      expect(device.fadeFrames).toBe(240);
      expect(device.write(new Float32Array(480 * 2).fill(0.25))).toBe(480);
      expect(device.renderForBenchmark(240)).toBeGreaterThanOrEqual(0);
      let stats = device.stats();
      expect(stats.framesPlayed).toBe(240);
      expect(stats.callbacks).toBe(1);
      expect(stats.bufferedFrames).toBe(240);
      device.start();
      expect(() => device.renderForBenchmark(240)).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_RUNNING' }));
      device.stop();
      stats = device.stats();
      expect(stats.started).toBe(false);
      expect(() => device.readCapture(new Float32Array(2))).toThrow(expect.objectContaining({ code: 'AUDIO_CAPTURE_DISABLED' }));
      expect(() => device.write(new Float32Array(3))).toThrow(expect.objectContaining({ code: 'AUDIO_PCM_MISALIGNED' }));
    } finally {
      device.close();
    }
    device.close();
    expect(device.stats().closed).toBe(true);
    expect(() => device.write(new Float32Array(2))).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_CLOSED' }));
    expect(() => device.start()).toThrow(expect.objectContaining({ code: 'AUDIO_DEVICE_CLOSED' }));
  });
});
