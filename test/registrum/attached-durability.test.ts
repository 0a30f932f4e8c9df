// Durability on an attached registrar (a worker's `AudioRegistrar.attach(share)`) is the writer's:
// results say the writer's log mode and turn `isDurable` once the writer has the record on disk;
// `effectsAwaitDurability` set on the writer holds on every thread attached to it (an attached
// registrar may ask for it too, never for less), so no `play` permit on any thread is handed out
// before its record is on disk. Attached here in the writer's own thread (as the architecture's
// example does): what is checked is the registrar's answer, not thread scheduling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { RegistrarRequiredError } from '../../src/registrar/errors.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar, type AttachOptions } from '../../src/registrar/registrar.js';
import type { RegistrarConfig } from '../../src/registrar/request-schema.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/** A group commit window no test outlives: records reach the disk only when flushed. */
const NEVER_MS = 60_000;
const tempDir = tempDirs('attached-durability-');
const open: { close(): unknown }[] = [];
// Registered after tempDirs': runs before it (after-hooks run in reverse), so the logs are closed before their dirs go.
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

function seqsOnDisk(path: string): number[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
}

/** A writer on a native core and a durable log, and a registrar attached to it with a stream ready to play. */
function sharedHost(durability: 'group' | 'fsync', writerConfig: RegistrarConfig = {}, attachOptions: AttachOptions = {}) {
  const path = join(tempDir(), 'log.jsonl');
  const { store } = AttestationStore.open(path, durability === 'group' ? { durability, groupCommitMs: NEVER_MS } : { durability });
  const writer = new AudioRegistrar({ store, core: new NativeCore(), config: writerConfig });
  open.push(writer);
  const attached = AudioRegistrar.attach(writer.share(), attachOptions);
  open.push(attached);
  const agent = attached.registerActor('agent:worker');
  const runtime = attached.registerActor('system:runtime');
  const streamId = attached.request({ action: 'start', actor: agent }).streamId ?? '';
  attached.request({ action: 'synthesize', actor: runtime, target: streamId });
  const play = (): RegistrarResult => attached.request({ action: 'play', actor: runtime, target: streamId });
  return { path, writer, attached, agent, runtime, streamId, play };
}

describe('an attached registrar keeps the writer\'s durability promise', () => {
  it('the writer\'s effectsAwaitDurability holds on the attached registrar: require() refuses a play not on disk; once the writer has it on disk, the permit is taken', async () => {
    const { path, writer, attached, play } = sharedHost('group', { effectsAwaitDurability: true });
    expect(attached.effectsAwaitDurability).toBe(true);
    const result = play();
    expect(result.allowed).toBe(true);
    expect(() => attached.require(result, { action: 'play' })).toThrow(RegistrarRequiredError);
    expect(seqsOnDisk(path)).not.toContain(result.attestation.seq);
    await writer.flush(); // drains the attached decisions and commits the batch
    expect(seqsOnDisk(path)).toContain(result.attestation.seq);
    expect(attached.require(result, { action: 'play' }).seq).toBe(result.attestation.seq); // not used up by the refusal
  });

  it('an attached registrar asking for effectsAwaitDurability itself gets it: require() refuses, requireDurable() waits for the writer\'s commit', async () => {
    const { path, writer, attached, play } = sharedHost('group', {}, { config: { effectsAwaitDurability: true } });
    const result = play();
    expect(() => attached.require(result, { action: 'play' })).toThrow(RegistrarRequiredError);
    let onDiskAtPermit: boolean | undefined;
    const permit = attached.requireDurable(result, { action: 'play' }).then((taken) => {
      onDiskAtPermit = seqsOnDisk(path).includes(result.attestation.seq);
      return taken;
    });
    await writer.flush();
    expect((await permit).seq).toBe(result.attestation.seq);
    expect(onDiskAtPermit).toBe(true);
  });

  it('an attached registrar cannot ask for less than the writer: effectsAwaitDurability false on attach still waits', () => {
    const { attached, play } = sharedHost('group', { effectsAwaitDurability: true }, { config: { effectsAwaitDurability: false } });
    expect(attached.effectsAwaitDurability).toBe(true);
    expect(() => attached.require(play(), { action: 'play' })).toThrow(RegistrarRequiredError);
  });

  it('attached results say the writer\'s log mode, and isDurable turns true once the writer has the record on disk (group and fsync)', async () => {
    for (const mode of ['group', 'fsync'] as const) {
      const { path, writer, play } = sharedHost(mode);
      const result = play();
      expect(result.durability).toBe(mode);
      expect(result.isDurable).toBe(false); // the writer has not drained it yet: not on disk
      expect(seqsOnDisk(path)).not.toContain(result.attestation.seq);
      await writer.flush();
      await result.durable;
      expect(seqsOnDisk(path)).toContain(result.attestation.seq);
      expect(result.isDurable).toBe(true);
    }
  });

  it('with an fsync writer and effectsAwaitDurability, an attached play waits for the writer to drain it (not on disk on return)', async () => {
    const { path, writer, attached, play } = sharedHost('fsync', { effectsAwaitDurability: true });
    const result = play();
    expect(() => attached.require(result, { action: 'play' })).toThrow(RegistrarRequiredError);
    await writer.flush();
    expect(seqsOnDisk(path)).toContain(result.attestation.seq);
    expect(attached.require(result, { action: 'play' }).seq).toBe(result.attestation.seq);
  });

  it('a VoiceEngine on the attached registrar of a writer with effectsAwaitDurability: its first chunk comes only once the play decision is on the writer\'s disk', async () => {
    const { path, writer, attached, agent } = sharedHost('group', { effectsAwaitDurability: true });
    const backend = new ConstantLevelBackend({ level: 0.5, sampleRateHz: 24_000, framesPerSegment: 2400 });
    const engine = new VoiceEngine({ registrar: attached, actor: agent, backend });
    open.push(engine);
    let playSeq = 0;
    attached.onTransition((event) => {
      if (event.action !== 'play') return;
      playSeq = event.seq;
      // The writer commits the play a step later (the group window itself never ends in this test).
      queueMicrotask(() => void writer.flush());
    });
    for await (const chunk of engine.stream('One sentence. And another.')) {
      expect(chunk.streamId).not.toBe('');
      expect(playSeq).toBeGreaterThan(0);
      // On disk: synced, not only written (a write without its fdatasync is in the page cache only).
      expect(writer.attestationStore.durableSeq).toBeGreaterThanOrEqual(playSeq);
      expect(seqsOnDisk(path)).toContain(playSeq);
      return;
    }
    throw new Error('no chunk');
  });
});
