// Voices of the device mixer through the public API: the real addon on miniaudio's null backend
// with capture. Positions are counted in frames (capture index = device frame); no wall clock.
import { afterEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import type { AudioOutputOptions } from '../../src/audio/output.js';
import type { AudioVoiceEvent, AudioVoiceEventKind } from '../../src/audio/voice.js';
import { InputError } from '../../src/errors.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 48_000;
const PERIOD_FRAMES = 240;
const opened: AudioOutput[] = [];
afterEach(() => {
  for (const output of opened.splice(0)) output.close();
});

function nullOutput(options: AudioOutputOptions = {}): AudioOutput {
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, capture: true, ...options });
  opened.push(output);
  return output;
}

/** A signal no other voice shares, exact in float32. */
function signal(frames: number, seed: number): Float32Array {
  return Float32Array.from({ length: frames }, (_, index) => Math.fround(0.1 * seed + ((index * 7 + seed) % 101) * 1e-3));
}

/** Reads the capture until it holds `frames` frames (device frames 0 .. frames-1). */
async function captureFrames(output: AudioOutput, frames: number): Promise<Float32Array> {
  const all = new Float32Array(frames);
  let filled = 0;
  await waitUntil(() => {
    const fresh = output.readCapture(frames - filled);
    all.set(fresh, filled);
    filled += fresh.length;
    return filled >= frames;
  }, `${frames} captured frames`);
  return all;
}

function record(voice: { on(kind: AudioVoiceEventKind, listener: (event: AudioVoiceEvent) => void): () => void }): { kind: AudioVoiceEventKind; event: AudioVoiceEvent }[] {
  const seen: { kind: AudioVoiceEventKind; event: AudioVoiceEvent }[] = [];
  for (const kind of AudioOutput.voiceEventKinds) voice.on(kind, (event) => seen.push({ kind, event }));
  return seen;
}

describe('AudioVoice', () => {
  it('mixes voices: the captured output equals the sum of the inputs × their gains', async () => {
    const output = nullOutput();
    const a = signal(4800, 1);
    const b = signal(3000, 2);
    const first = output.openVoice();
    const second = output.openVoice({ gainDb: -6 });
    expect(first.id).not.toBe(second.id);
    expect(first.write(a)).toBe(a.length);
    expect(second.write(b)).toBe(b.length);
    output.start();
    const captured = await captureFrames(output, 6000);
    const gain = Math.fround(10 ** (-6 / 20));
    let worst = 0;
    for (let index = 0; index < captured.length; index += 1) {
      const expected = (a[index] ?? 0) + (b[index] ?? 0) * gain;
      worst = Math.max(worst, Math.abs((captured[index] ?? 0) - expected));
    }
    expect(worst).toBeLessThan(1e-6);
    expect(first.stats()).toMatchObject({ framesPlayed: 4800, bufferedFrames: 0, state: 'playing' });
    expect(second.stats().framesPlayed).toBe(3000);
    // Planted violation: without b's gain the output would not match.
    const ungained = captured.findIndex((sample, index) => index < 3000 && Math.abs(sample - ((a[index] ?? 0) + (b[index] ?? 0))) < 1e-6);
    expect(ungained).toBe(-1);
  });

  it('interrupting one voice fades only it within the fade; the other stays sample-exact', async () => {
    const output = nullOutput();
    const kept = signal(9600, 3);
    const cut = signal(9600, 4);
    const keep = output.openVoice();
    const stop = output.openVoice();
    keep.write(kept);
    stop.write(cut);
    const seen = record(stop);
    output.start();
    await waitUntil(() => output.stats().deviceFrames >= PERIOD_FRAMES * 4, 'four periods');
    // Read before the request: a period rendering right now started before it and plays in full.
    const at = output.stats().deviceFrames;
    stop.interrupt();
    await waitUntil(() => (output.pollEvents(), seen.some(({ kind }) => kind === 'interrupted')), 'the interrupted event');
    const interrupted = seen.find(({ kind }) => kind === 'interrupted')?.event;
    // The fade starts on the next period and lasts at most fadeFrames.
    expect(interrupted?.deviceFrames).toBeGreaterThanOrEqual(at);
    expect(interrupted?.deviceFrames).toBeLessThanOrEqual(at + PERIOD_FRAMES + output.fadeFrames);
    const captured = await captureFrames(output, 9600);
    const end = interrupted?.deviceFrames ?? 0;
    let mismatches = 0;
    for (let index = end; index < 9600; index += 1) if (captured[index] !== kept[index]) mismatches += 1;
    expect(mismatches).toBe(0);
    // Before the request both played in full.
    for (let index = 0; index < at; index += 1) expect(Math.abs((captured[index] ?? 0) - ((kept[index] ?? 0) + (cut[index] ?? 0)))).toBeLessThan(1e-6);
    expect(stop.stats()).toMatchObject({ state: 'interrupted', bufferedFrames: 0 });
    expect(stop.stats().framesPlayed).toBe(interrupted?.voiceFrames);
    expect(() => stop.write(cut)).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_INTERRUPTED' }));
    expect(keep.stats().state).toBe('playing');
  });

  it('reports started, position, drained with frame positions; end() then drain() resolves; writes after end fail', async () => {
    const output = nullOutput();
    output.start();
    await waitUntil(() => output.stats().deviceFrames > PERIOD_FRAMES * 2, 'the device running');
    const voice = output.openVoice();
    const seen = record(voice);
    const pcm = signal(PERIOD_FRAMES * 5, 5);
    expect(await voice.writeAll(pcm)).toBe(pcm.length);
    voice.end();
    expect(() => voice.write(pcm)).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_ENDED' }));
    await voice.drain();
    await waitUntil(() => (output.pollEvents(), seen.some(({ kind }) => kind === 'drained')), 'the drained event');
    const kinds = seen.map(({ kind }) => kind);
    expect(kinds[0]).toBe('started');
    expect(kinds.filter((kind) => kind === 'started')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'position').length).toBeGreaterThan(0);
    const started = seen[0]?.event;
    const drained = seen.find(({ kind }) => kind === 'drained')?.event;
    expect(started?.voiceFrames).toBe(0);
    expect(drained?.voiceFrames).toBe(pcm.length);
    // Every frame of the voice was mixed between started and drained (no underrun while it had input).
    expect((drained?.deviceFrames ?? 0) - (started?.deviceFrames ?? 0)).toBeGreaterThanOrEqual(pcm.length);
    const positions = seen.filter(({ kind }) => kind === 'position').map(({ event }) => event.voiceFrames);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(voice.stats()).toMatchObject({ state: 'drained', framesPlayed: pcm.length, bufferedFrames: 0 });
  });

  it('counts an underrun when a started voice that was not ended runs dry', async () => {
    const output = nullOutput();
    const voice = output.openVoice();
    const seen = record(voice);
    voice.write(signal(PERIOD_FRAMES + 10, 6));
    output.start();
    await waitUntil(() => (output.pollEvents(), voice.stats().underruns > 0), 'an underrun');
    expect(seen.some(({ kind }) => kind === 'underrun')).toBe(true);
    // A voice that never started is not underrunning: it has nothing to play yet.
    const idle = output.openVoice();
    await waitUntil(() => output.stats().deviceFrames > PERIOD_FRAMES * 20, 'more periods');
    expect(idle.stats()).toMatchObject({ underruns: 0, state: 'pending' });
  });

  it('ramps its gain linearly without steps larger than the ramp slope', async () => {
    const output = nullOutput();
    const voice = output.openVoice();
    voice.write(new Float32Array(PERIOD_FRAMES * 8).fill(0.5));
    voice.setGain(-120, { rampMs: 2 }); // 96 frames at 48 kHz, applied from the first period
    output.start();
    const captured = await captureFrames(output, PERIOD_FRAMES * 2);
    const rampFrames = 96;
    for (let frame = 0; frame < rampFrames; frame += 1) {
      const gain = 1 + ((1e-6 - 1) * frame) / rampFrames;
      expect(Math.abs((captured[frame] ?? 0) - 0.5 * gain)).toBeLessThan(1e-4);
    }
    expect(Math.abs(captured[rampFrames + 10] ?? 1)).toBeLessThan(1e-6);
  });

  it('validates at the edge and names the field', () => {
    const output = nullOutput();
    expect(() => output.openVoice({ bufferFrames: 10 })).toThrow(InputError);
    expect(() => output.openVoice({ bufferFrames: 10 })).toThrow(/options\.bufferFrames/);
    expect(() => output.openVoice({ gainDb: 30 })).toThrow(/options\.gainDb/);
    expect(() => output.openVoice({ volume: 1 } as never)).toThrow(/volume/);
    const voice = output.openVoice();
    expect(() => voice.setGain(Number.NaN)).toThrow(/gainDb/);
    expect(() => voice.setGain(0, { rampMs: -1 })).toThrow(/options\.rampMs/);
    expect(() => voice.on('finished' as never, () => undefined)).toThrow(/kind/);
    expect(() => voice.write(new Float64Array(4) as never)).toThrow(/pcm: expected a Float32Array/);
  });

  it('close() is idempotent, retires the voice, and frees its slot; 64 voices at most', async () => {
    const output = nullOutput();
    const voices = Array.from({ length: 64 }, () => output.openVoice({ bufferFrames: 64 }));
    expect(() => output.openVoice()).toThrow(expect.objectContaining({ code: 'AUDIO_NO_FREE_VOICE' }));
    const [first] = voices;
    first?.close();
    first?.close();
    expect(first?.stats().state).toBe('closed');
    expect(() => first?.write(new Float32Array(4))).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_CLOSED' }));
    // A stopped device frees the slot at once: a new voice fits, with a new id.
    const again = output.openVoice();
    expect(voices.map((voice) => voice.id)).not.toContain(again.id);
    for (const voice of voices) voice.close();
    again.close();
    expect(output.stats().liveVoices).toBe(0);
  });

  it('a closed playing voice fades out (never cut short) and is freed once the callback lets go', async () => {
    const output = nullOutput();
    // Four seconds queued: the voice is still playing when it is closed, however slow this machine is.
    const voice = output.openVoice({ bufferFrames: RATE_HZ * 4 });
    voice.write(new Float32Array(RATE_HZ * 4).fill(0.5));
    const seen = record(voice);
    output.start();
    await waitUntil(() => voice.stats().framesPlayed > PERIOD_FRAMES * 2, 'the voice playing');
    voice.close();
    expect(output.stats().liveVoices).toBe(1);
    await waitUntil(() => (output.pollEvents(), output.stats().liveVoices === 0), 'the slot freed');
    const interrupted = seen.find(({ kind }) => kind === 'interrupted')?.event;
    expect(interrupted).toBeDefined();
    const captured = await captureFrames(output, (interrupted?.deviceFrames ?? 0) + PERIOD_FRAMES);
    const fadeStart = (interrupted?.deviceFrames ?? 0) - output.fadeFrames;
    // The last frames before the end of the fade go down to zero in steps of 0.5 / fadeFrames.
    for (let frame = Math.max(1, fadeStart + 1); frame < (interrupted?.deviceFrames ?? 0); frame += 1) {
      expect((captured[frame - 1] ?? 0) - (captured[frame] ?? 0)).toBeLessThanOrEqual(0.5 / output.fadeFrames + 1e-6);
    }
    expect(captured.subarray(interrupted?.deviceFrames ?? 0).every((sample) => sample === 0)).toBe(true);
    expect(voice.stats().framesPlayed).toBe(interrupted?.voiceFrames);
    expect(output.openVoices).toBe(0);
  });

  it('drain() on a stopped device with frames queued says so', async () => {
    const output = nullOutput();
    const voice = output.openVoice();
    voice.write(new Float32Array(100));
    await expect(voice.drain()).rejects.toMatchObject({ code: 'AUDIO_NOT_STARTED' });
  });
});
