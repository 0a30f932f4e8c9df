/**
 * Engine tests at the device: miniaudio's null device with capture (24 kHz mono, 10 ms periods),
 * an engine whose backend "speaks" every segment as 2 s of a constant level, and a host around
 * them (a registrar, its agent and a user of session "den"), so a fade or a cut is found in the
 * captured output by counting frames (no wall-clock bound). What they open goes on the test
 * file's `closedAfterEach()` list.
 */
import { expect } from 'vitest';
import type { AttestationStore } from '../../src/attestation/store.js';
import { AudioOutput } from '../../src/audio/output.js';
import type { PlayResult } from '../../src/engine/speech-types.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { ActorHandle } from '../../src/registrar/actor-handle.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { Closable } from './closed-after-each.js';
import { ConstantLevelBackend } from './constant-level-backend.js';
import { capturedSoFar, framesAtLevel, position } from './device-capture.js';
import { waitUntil } from './waiting.js';

/** The null device's rate and period. */
export const RATE_HZ = 24_000;
export const PERIOD_FRAMES = 240;
/** The level every segment is "spoken" at, and its length. */
export const LEVEL = 0.5;
export const SEGMENT_FRAMES = RATE_HZ * 2;

/** Options of `nullDevice()`. */
export interface NullDeviceOptions {
  /** Seconds of capture (default 20; 0: no capture). */
  captureSeconds?: number;
  /** The device's ring, in frames (default: the device's own). */
  bufferFrames?: number;
}

/** A mono null device at `RATE_HZ` with `PERIOD_FRAMES` periods, on `opened`. */
export function nullDevice(opened: Closable[], options: NullDeviceOptions = {}): AudioOutput {
  const captureSeconds = options.captureSeconds ?? 20;
  const output = new AudioOutput({
    backend: 'null',
    sampleRateHz: RATE_HZ,
    channels: 1,
    periodFrames: PERIOD_FRAMES,
    ...(options.bufferFrames !== undefined ? { bufferFrames: options.bufferFrames } : {}),
    ...(captureSeconds > 0 ? { capture: true, captureFrames: RATE_HZ * captureSeconds } : {}),
  });
  opened.push(output);
  return output;
}

/** A backend speaking each segment as `framesPerSegment` frames of `level`. */
export function constantLevel(level = LEVEL, framesPerSegment = SEGMENT_FRAMES): ConstantLevelBackend {
  return new ConstantLevelBackend({ level, sampleRateHz: RATE_HZ, framesPerSegment });
}

/** What `nullDeviceHost()` opens. */
export interface NullDeviceHost {
  registrar: AudioRegistrar;
  /** `agent:assistant`, the engine's actor. */
  agent: ActorHandle;
  /** `user:alice`, a member of session "den". */
  alice: ActorHandle;
  output: AudioOutput;
  engine: VoiceEngine;
}

/** Options of `nullDeviceHost()`. */
export interface NullDeviceHostOptions {
  /** The registrar's attestation store (default: its own in memory). */
  store?: AttestationStore;
  /** Seconds of capture (default 20). */
  captureSeconds?: number;
  /** Frames of each segment (default `SEGMENT_FRAMES`, 2 s). */
  framesPerSegment?: number;
}

/** A registrar, its agent and user, a null device and the agent's engine on it (constant level), all on `opened`. */
export function nullDeviceHost(opened: Closable[], options: NullDeviceHostOptions = {}): NullDeviceHost {
  const registrar = new AudioRegistrar(options.store ? { store: options.store } : {});
  const agent = registrar.registerActor('agent:assistant');
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  const output = nullDevice(opened, options.captureSeconds !== undefined ? { captureSeconds: options.captureSeconds } : {});
  const engine = new VoiceEngine({ registrar, actor: agent, output, backend: constantLevel(LEVEL, options.framesPerSegment) });
  opened.push(engine);
  return { registrar, agent, alice, output, engine };
}

/** Starts `engine.play()` and waits until its stream plays with a few periods heard on `output`. */
export async function playing(engine: VoiceEngine, output: AudioOutput, registrar: AudioRegistrar, options: { sessionId?: string } = {}): Promise<{ result: Promise<PlayResult>; streamId: string }> {
  const result = engine.play('constant level for a while', options);
  result.catch(() => undefined);
  let streamId = '';
  await waitUntil(() => {
    streamId = engine.activeStreams()[0] ?? '';
    return streamId !== '' && registrar.getState(streamId)?.state === 'playing' && position(output) > PERIOD_FRAMES * 4;
  }, 'the stream to play');
  return { result, streamId };
}

/** Frames from `from` to the first captured frame that is no longer at `LEVEL` (the fade). */
export function framesUntilFade(output: AudioOutput, from: number, captured: Float32Array = capturedSoFar(output)): number {
  return framesAtLevel(captured, from, LEVEL);
}

/**
 * Frames the device rendered at `LEVEL` from `from` until the fade began, once the fade was
 * rendered (waits for it, deadline only). Throws when no fade is in the capture at all. With
 * `thenSilent`, a few more periods are rendered and everything after the fade must be silence.
 */
export async function framesUntilSilenced(output: AudioOutput, from: number, options: { thenSilent?: boolean } = {}): Promise<number> {
  await waitUntil(() => output.stats().interruptGeneration > 0 && output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
  if (options.thenSilent) {
    const callbacks = output.stats().callbacks;
    await waitUntil(() => output.stats().callbacks > callbacks + 4, 'periods after the fade');
  }
  const captured = capturedSoFar(output);
  const frames = framesUntilFade(output, from, captured);
  if (from + frames >= captured.length) throw new Error(`no fade in the ${captured.length} captured frames after frame ${from}`);
  if (options.thenSilent) expect(captured.subarray(from + frames + output.fadeFrames).every((sample) => sample === 0)).toBe(true);
  return frames;
}

/**
 * The admission timeout's promise to a user: while `agent` holds the device with `hog` (a call
 * whose source or backend stalled), `user`'s covered play in session "den" goes ahead; `hog`
 * rejects STREAM_FAILED and the runtime's attested fail names `admissionTimeoutMs` (`timeoutMs`).
 */
export async function expectUserPlaysPastStalledAgent(registrar: AudioRegistrar, agent: VoiceEngine, user: VoiceEngine, hog: Promise<unknown>, timeoutMs: number): Promise<void> {
  const outcome = hog.then(() => 'resolved', (error: { code?: string }) => error.code ?? 'error');
  await waitUntil(() => agent.schedule().active.length === 1, 'the agent admitted');
  const result = await user.play('Hello from the user.', { sessionId: 'den' });
  expect(result.interrupted).toBeUndefined();
  expect(await outcome).toBe('STREAM_FAILED');
  const [failed] = registrar.attestationStore.query({ action: 'fail' });
  expect(failed).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
  expect(JSON.stringify(failed)).toContain(`no audio to play for ${timeoutMs} ms (admissionTimeoutMs)`);
}
