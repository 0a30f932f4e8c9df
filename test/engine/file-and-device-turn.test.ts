// speakToFile({ play: true }) holds its turn on a shared device by play()'s rules: the admission
// timeout fails a stream whose backend stalls (before its first audio or between chunks) through
// the runtime (attested), its turn goes to the next play (a user's covered play goes ahead) and
// no file is left; real-time mode paces its writes; its turn is released once its voice is free.
// Real addon (miniaudio's null device), real registrar, real files in a temp dir; frames and
// events counted, deadlines only.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { constantLevel, expectUserPlaysPastStalledAgent, LEVEL, nullDevice, nullDeviceHost, PERIOD_FRAMES, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';
import { largestBuffered, WatchedOutput } from '../helpers/watched-output.js';

const opened = closedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'vs-file-and-device-turn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A constant-level backend whose segments containing "Stall" wait for `stall` (or their signal's abort). */
function stallingBackend(stall: AbortSignal, framesPerSegment: number): ConstantLevelBackend {
  const stalled = new Promise<void>((resolve) => stall.addEventListener('abort', () => resolve(), { once: true }));
  return new ConstantLevelBackend({ level: LEVEL, sampleRateHz: RATE_HZ, framesPerSegment, stallFor: (text) => (text.includes('Stall') ? stalled : undefined) });
}

/** A user's covered session "den" on a null device, an agent `hog` (admission timeout 300 ms) and the user's engine on it. */
function hogAndUser(): { registrar: AudioRegistrar; agent: VoiceEngine; user: VoiceEngine } {
  const { registrar, alice, output } = nullDeviceHost(opened, { captureSeconds: 0 });
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
  const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:hog'), output, backend: constantLevel(LEVEL, RATE_HZ / 10), admissionTimeoutMs: 300 });
  const user = new VoiceEngine({ registrar, actor: alice, output, backend: constantLevel(LEVEL, RATE_HZ / 10) });
  opened.push(agent, user);
  return { registrar, agent, user };
}

describe('speakToFile({ play: true }) holds its device turn by play() rules', () => {
  it("an agent's file whose backend stalls before any audio is failed by the runtime (attested) and releases the device: the user's covered play goes ahead, no file is left", async () => {
    const { registrar, alice, output } = nullDeviceHost(opened, { captureSeconds: 0 });
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
    const stall = new AbortController();
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:hog'), output, backend: stallingBackend(stall.signal, RATE_HZ / 10), admissionTimeoutMs: 300 });
    const user = new VoiceEngine({ registrar, actor: alice, output, backend: constantLevel(LEVEL, RATE_HZ / 10) });
    opened.push(agent, user);
    const path = join(dir, 'silent.wav');
    try {
      await expectUserPlaysPastStalledAgent(registrar, agent, user, agent.speakToFile('Stall here.', path, { play: true }), 300);
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      stall.abort();
    }
  }, 60_000);

  it("an agent's file target that never takes its bytes (a writable that never calls back) is failed by the runtime once the device has none of its audio: the user's covered play goes ahead, and the agent's engine still closes", async () => {
    const { registrar, agent, user } = hogAndUser();
    // Takes nothing: its buffer fills and it never drains (a peer that stopped reading).
    const deaf = new Writable({ highWaterMark: 16, write: () => undefined });
    const text = Array.from({ length: 40 }, (_, index) => `Sentence ${index}.`).join(' ');
    await expectUserPlaysPastStalledAgent(registrar, agent, user, agent.speakToFile(text, deaf, { play: true }), 300);
    await agent.close();
  }, 60_000);

  it("a FIFO whose reader never reads: the runtime fails the agent's stream once the device has none of its audio, and the user's covered play goes ahead", async () => {
    const { registrar, agent, user } = hogAndUser();
    const fifo = join(dir, 'deaf.wav');
    execFileSync('mkfifo', [fifo]);
    // A reader that holds the FIFO open (read-write: its open does not wait) and never reads: the pipe's buffer fills and the writes block.
    const reader = spawn('sh', ['-c', `exec 3<>"${fifo}"; echo ready; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => reader.stdout.once('data', resolve));
      const text = Array.from({ length: 60 }, (_, index) => `Sentence ${index}.`).join(' ');
      const hog = agent.speakToFile(text, fifo, { play: true }).then(() => 'resolved', (error: { code?: string }) => error.code ?? 'error');
      await waitUntil(() => agent.schedule().active.length === 1, 'the agent admitted');
      // The turn is released though the write stays blocked in the kernel: the user's play goes ahead.
      const result = await user.play('Hello from the user.', { sessionId: 'den' });
      expect(result.interrupted).toBeUndefined();
      const [failed] = registrar.attestationStore.query({ action: 'fail' });
      expect(failed).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
      expect(JSON.stringify(failed)).toContain('no audio to play for 300 ms (admissionTimeoutMs)');
      // The agent's call settles once the FIFO's reader goes (its blocked write fails then).
      reader.kill();
      expect(await hog).toBe('STREAM_FAILED');
    } finally {
      reader.kill();
      rmSync(fifo, { force: true });
    }
  }, 60_000);

  it('a backend that stalls between chunks is failed too, after its first audio played (planted: one that keeps talking is not), no file left', async () => {
    const output = nullDevice(opened);
    const stall = new AbortController();
    // Half a second a segment: longer than the timeout, so a talking stream outlives it only because the device still plays its audio.
    const engine = new VoiceEngine({ output, backend: stallingBackend(stall.signal, RATE_HZ / 2), admissionTimeoutMs: 300 });
    opened.push(engine);
    try {
      const path = join(dir, 'stalled.wav');
      await expect(engine.speakToFile('Hi there. Stall now.', path, { play: true })).rejects.toMatchObject({ code: 'STREAM_FAILED' });
      // The first sentence reached the device before the stall.
      expect(capturedSoFar(output).filter((sample) => sample === LEVEL).length).toBeGreaterThanOrEqual(RATE_HZ / 2 - PERIOD_FRAMES);
      expect(readdirSync(dir)).toEqual([]);
      const talking = join(dir, 'talking.wav');
      const written = await engine.speakToFile('Hi there. Talk on. And on.', talking, { play: true });
      // Three sentences (and the pauses between them).
      expect(written.file.frames).toBeGreaterThanOrEqual((RATE_HZ / 2) * 3);
      rmSync(talking);
    } finally {
      stall.abort();
    }
  }, 60_000);

  it('real-time mode keeps what it queues ahead of the device under one period + 20 ms, as play() does (planted: a default engine runs ahead)', async () => {
    const limitFrames = PERIOD_FRAMES + (RATE_HZ * 20) / 1000;
    const largest = async (engine: Partial<ConstructorParameters<typeof VoiceEngine>[0]>): Promise<number> => {
      const output = new WatchedOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES });
      opened.push(output);
      const voiceEngine = new VoiceEngine({ output, backend: constantLevel(LEVEL, RATE_HZ / 2), ...engine });
      opened.push(voiceEngine);
      const path = join(dir, 'paced.wav');
      const queued = await largestBuffered(output, () => voiceEngine.speakToFile('a long sentence', path, { play: true }));
      rmSync(path);
      return queued;
    };
    expect(await largest({ realtime: true, maxLatencyMs: 50 })).toBeLessThanOrEqual(limitFrames);
    expect(await largest({})).toBeGreaterThan(limitFrames * 4);
  }, 60_000);

  it("releases its turn only once its voice is free: the next play's stream starts after the interrupted file's voice faded out", async () => {
    // One-second periods: the interrupted voice's fade is rendered up to a second after the decision.
    const output = new WatchedOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: RATE_HZ });
    opened.push(output);
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const engine = new VoiceEngine({ registrar, actor: agent, output, policy: 'queue', backend: constantLevel(LEVEL, RATE_HZ * 3) });
    opened.push(engine);
    const path = join(dir, 'interrupted.wav');
    const file = engine.speakToFile('a long sentence', path, { play: true });
    await waitUntil(() => engine.schedule().active[0]?.playing === true && position(output) > 0, 'the file to play');
    const first = engine.schedule().active[0]?.streamId ?? '';
    const fileVoice = output.voices[0];
    let fileVoiceAtNextStart: boolean | undefined;
    const stopListening = registrar.onTransition((event) => {
      if (event.action === 'start' && event.streamId !== first) fileVoiceAtNextStart ??= fileVoice?.isAllocated();
    });
    try {
      const next = engine.play('the next one');
      await waitUntil(() => engine.schedule().queued.length === 1, 'the next play queued');
      expect(engine.interrupt(first).allowed).toBe(true);
      const written = await file;
      expect(written.interrupted).toBe(true);
      await next;
      expect(fileVoiceAtNextStart).toBe(false);
      rmSync(path);
    } finally {
      stopListening();
    }
  }, 60_000);
});
