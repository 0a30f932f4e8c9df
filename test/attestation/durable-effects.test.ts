// Durability a caller can see and rely on, on real files: every result says how its record is kept
// and whether it is on disk yet; requireDurable() hands out a permit only once the record is; with
// effectsAwaitDurability a play permit cannot be taken before (require() refuses it) and the
// engine's first chunk waits for it; without the option (the documented default) it does not.
import { closeSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { RegistrarDeniedError, RegistrarRequiredError } from '../../src/registrar/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { nextTurn, settledFlag } from '../helpers/waiting.js';

/** A group commit window no test outlives: records reach the disk only when flushed. */
const NEVER_MS = 60_000;
const dirs: string[] = [];
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'durable-effects-'));
  dirs.push(dir);
  return join(dir, 'log.jsonl');
}
function seqsOnDisk(path: string): number[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
}

/** A registrar on a group-commit log with a stream ready to play (start, synthesize flushed). */
async function groupHost(config: { effectsAwaitDurability?: boolean } = {}, groupCommitMs = NEVER_MS) {
  const path = tempLog();
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs });
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore(), config });
  open.push(registrar);
  const agent = registrar.registerActor('agent:a');
  const runtime = registrar.registerActor('system:runtime');
  const streamId = registrar.request({ action: 'start', actor: agent }).streamId ?? '';
  registrar.request({ action: 'synthesize', actor: runtime, target: streamId });
  await registrar.flush();
  const play = (): RegistrarResult => registrar.request({ action: 'play', actor: runtime, target: streamId });
  return { path, store, registrar, agent, runtime, streamId, play };
}

describe('what a result says about its durability', () => {
  it('memory: never on disk, durable settles at once', async () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    const result = registrar.request({ action: 'start', actor: registrar.registerActor('agent:a') });
    expect(result).toMatchObject({ durability: 'memory', isDurable: false });
    await expect(result.durable).resolves.toBeUndefined();
    expect(result.isDurable).toBe(false);
  });

  it('fsync: on disk when request() returns', async () => {
    const path = tempLog();
    const registrar = new AudioRegistrar({ store: AttestationStore.open(path, { durability: 'fsync' }).store, core: new ReferenceCore() });
    open.push(registrar);
    const result = registrar.request({ action: 'start', actor: registrar.registerActor('agent:a') });
    expect(result).toMatchObject({ durability: 'fsync', isDurable: true });
    expect(seqsOnDisk(path)).toEqual([1]);
  });

  it('group: not on disk on return; isDurable turns true with its batch, when durable resolves', async () => {
    const { path, registrar, play } = await groupHost();
    const result = play();
    expect(result).toMatchObject({ durability: 'group', isDurable: false });
    expect(seqsOnDisk(path)).not.toContain(result.attestation.seq);
    await registrar.flush();
    await result.durable;
    expect(result.isDurable).toBe(true);
    expect(seqsOnDisk(path)).toContain(result.attestation.seq);
  });
});

describe('permits that wait for durability', () => {
  it('by default (effectsAwaitDurability false) a play permit is handed out before the group commit', async () => {
    const { registrar, play, path } = await groupHost();
    const result = play();
    expect(registrar.effectsAwaitDurability).toBe(false);
    expect(registrar.require(result, { action: 'play' }).seq).toBe(result.attestation.seq);
    expect(seqsOnDisk(path)).not.toContain(result.attestation.seq); // 0 bytes of it on disk: what the option is for
  });

  it('effectsAwaitDurability: require() refuses a play not yet on disk (and does not use it up); requireDurable() waits for the commit', async () => {
    const { registrar, play, path, runtime, streamId } = await groupHost({ effectsAwaitDurability: true });
    const result = play();
    expect(() => registrar.require(result, { action: 'play' })).toThrow(RegistrarRequiredError);
    expect(() => registrar.require(result, { action: 'play' })).toThrow(/not on disk yet.*requireDurable/);
    const pending = registrar.requireDurable(result, { action: 'play' });
    const waiting = settledFlag(pending);
    for (let turn = 0; turn < 5; turn += 1) await nextTurn();
    expect(waiting.settled).toBe(false); // nothing committed: no permit
    await registrar.flush();
    const permit = await pending;
    expect(permit).toMatchObject({ action: 'play', seq: result.attestation.seq });
    expect(seqsOnDisk(path)).toContain(permit.seq);
    // Ending effects are never held back: silencing sooner is the safe side.
    const interrupt = registrar.request({ action: 'interrupt', actor: runtime, target: streamId, metadata: {} });
    expect(interrupt.isDurable).toBe(false);
    expect(registrar.require(registrar.request({ action: 'stop', actor: runtime, target: streamId }), { action: 'stop' }).action).toBe('stop');
  });

  it('requireDurable checks before waiting: a denied or forged result is refused at once', async () => {
    const { registrar, agent, streamId } = await groupHost({ effectsAwaitDurability: true });
    const denied = registrar.request({ action: 'restart', actor: agent, target: streamId });
    await expect(registrar.requireDurable(denied, { action: 'restart' })).rejects.toBeInstanceOf(RegistrarDeniedError);
    await expect(registrar.requireDurable({ ...denied, allowed: true } as RegistrarResult)).rejects.toBeInstanceOf(RegistrarRequiredError);
  });

  it('a decision superseded while its record was being written gets no permit', async () => {
    const { registrar, play, agent, streamId } = await groupHost({ effectsAwaitDurability: true });
    const result = play();
    const pending = registrar.requireDurable(result, { action: 'play' });
    pending.catch(() => undefined);
    expect(registrar.request({ action: 'interrupt', actor: agent, target: streamId }).allowed).toBe(true);
    await registrar.flush();
    await expect(pending).rejects.toThrow(/superseded/);
  });

  it('a failed write rejects requireDurable with ATTESTATION_IO and halts the registrar', async () => {
    const { registrar, play, store } = await groupHost({ effectsAwaitDurability: true });
    const result = play();
    const pending = registrar.requireDurable(result, { action: 'play' });
    pending.catch(() => undefined);
    closeSync((store as unknown as { log: { fd: number } }).log.fd); // the batch write fails with EBADF
    await registrar.flush().catch(() => undefined);
    await expect(pending).rejects.toMatchObject({ code: 'ATTESTATION_IO' });
    expect(registrar.halted).toBe(true);
    (store as unknown as { log: { fd: number | null } }).log.fd = null;
  });

  it('the option is validated', () => {
    expect(() => new AudioRegistrar({ config: { effectsAwaitDurability: 'yes' } as never })).toThrow(InputError);
    expect(() => new AudioRegistrar({ config: { effectsAwaitDurability: 'yes' } as never })).toThrow(/effectsAwaitDurability/);
  });
});

describe('the engine honours effectsAwaitDurability', () => {
  const backend = () => new ConstantLevelBackend({ level: 0.5, sampleRateHz: 24_000, framesPerSegment: 2400 });
  /** The first chunk of an engine stream, and whether the stream's play record was on disk when it came. */
  async function firstChunk(config: { effectsAwaitDurability?: boolean }, groupCommitMs: number) {
    const { registrar, agent, path } = await groupHost(config, groupCommitMs);
    const engine = new VoiceEngine({ registrar, actor: agent, backend: backend() });
    open.push(engine);
    for await (const chunk of engine.stream('One sentence. And another.')) {
      const play = registrar.attestationStore.query({ action: 'play', target: chunk.streamId })[0];
      return { playOnDisk: play !== undefined && seqsOnDisk(path).includes(play.seq), play };
    }
    throw new Error('no chunk');
  }

  it('with the option, the first chunk comes only once the play decision is on disk', async () => {
    const { playOnDisk, play } = await firstChunk({ effectsAwaitDurability: true }, 20);
    expect(play).toMatchObject({ decision: 'allowed' });
    expect(playOnDisk).toBe(true);
  });

  it('without it, the first chunk comes before the group commit (the play record is not on disk yet)', async () => {
    const { playOnDisk, play } = await firstChunk({}, NEVER_MS);
    expect(play).toMatchObject({ decision: 'allowed' });
    expect(playOnDisk).toBe(false);
  });

  it('an interrupt made while the play record is being written (between decision and sink) wins: play() settles interrupted by it, no frame reaches the device', async () => {
    const { registrar, agent } = await groupHost({ effectsAwaitDurability: true }, 20);
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 24_000, channels: 1 });
    open.push(output);
    const engine = new VoiceEngine({ registrar, actor: agent, output, backend: backend() });
    open.push(engine);
    let interrupt: RegistrarResult | undefined;
    registrar.onTransition((event) => {
      // The play decision is made; its permit waits for the group commit. The owner interrupts in that gap.
      if (event.action === 'play') queueMicrotask(() => (interrupt = registrar.request({ action: 'interrupt', actor: agent, target: event.streamId, reason: 'in the gap' })));
    });
    const played = await engine.play('One sentence.');
    expect(interrupt?.allowed).toBe(true);
    expect(played.interrupted).toBe(true);
    expect(played.endedBy).toMatchObject({ action: 'interrupt', attestationId: interrupt?.attestation.id });
    expect(output.stats().framesPlayed + output.stats().bufferedFrames).toBe(0);
    expect(output.stats().liveVoices).toBe(0);
  });
});

