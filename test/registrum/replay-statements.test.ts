// Replay checks the statements a record makes about what its decision relied on, not only the
// decision: `metadata.membership` (re-derived where the log shows it, trusted only as a declaration)
// and `metadata.runtimeError` (a system fail of a covered stream). Each forgery below is planted in
// a real log and the chain re-sealed (what a forger with the hashing code does); replay names its seq.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { coresUnderTest, expectAllowed, mutableCopy, registrarWith, reseal, streamIn, type CoreUnderTest } from './cores.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-statements-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The seqs of the records the forgeries edit. */
interface Seqs {
  byStream: number;
  declared: number;
  declaredAgain: number;
  userScoped: number;
  notOwner: number;
  runtimeError: number;
  uncoveredFail: number;
}

/** A log with every kind of statement, and the seqs of the records that make them. */
function scene(core: CoreUnderTest): { live: AudioRegistrar; seqs: Seqs } {
  const live = registrarWith(core);
  const attic = { scope: 'session', scopeId: 'attic' } as const;
  streamIn(live, 'stopped', 'agent:claude-1', { sessionId: 'garage', userId: 'erin' });
  const erin = live.registerActor('user:erin');
  const byStream = expectAllowed(live.request({ action: 'enable_override', actor: erin, metadata: { scope: 'session', scopeId: 'garage' } }));
  const carol = live.registerActor('user:carol', { sessions: ['attic'] });
  const declared = expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: attic }));
  expectAllowed(live.request({ action: 'disable_override', actor: carol, metadata: attic }));
  // carol now also has a stream in the attic: the registrar still states her (recorded) declaration.
  streamIn(live, 'stopped', 'agent:claude-1', { sessionId: 'attic', userId: 'carol' });
  const declaredAgain = expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: attic }));
  const userScoped = expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }));
  const notOwner = live.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'garage' } });
  expect(notOwner.reason).toBe('not_owner');
  const covered = streamIn(live, 'synthesizing', 'agent:claude-1', { sessionId: 'den', userId: 'alice' });
  const runtimeError = expectAllowed(live.requestAsHost({ action: 'fail', actor: 'system:runtime', target: covered, reason: 'backend crashed' }));
  const uncovered = streamIn(live, 'synthesizing', 'agent:claude-1', { sessionId: 'den' });
  const uncoveredFail = expectAllowed(live.requestAsHost({ action: 'fail', actor: 'system:runtime', target: uncovered, reason: 'backend crashed' }));
  live.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
  const seqOf = (result: { attestation: Attestation }) => result.attestation.seq;
  return {
    live,
    seqs: {
      byStream: seqOf(byStream),
      declared: seqOf(declared),
      declaredAgain: seqOf(declaredAgain),
      userScoped: seqOf(userScoped),
      notOwner: seqOf(notOwner),
      runtimeError: seqOf(runtimeError),
      uncoveredFail: seqOf(uncoveredFail),
    },
  };
}

/** The log with one record's metadata edited (undefined deletes a key), re-sealed. */
function planted(live: AudioRegistrar, seq: number, metadata: Record<string, unknown>): Attestation[] {
  const log = mutableCopy(live.attestationStore.all());
  const record = log[seq - 1] as Attestation;
  const edited: Record<string, unknown> = { ...record.metadata };
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) delete edited[key];
    else edited[key] = value;
  }
  log[seq - 1] = { ...record, metadata: edited as Attestation['metadata'] };
  return reseal(log);
}

function replayError(log: Attestation[], core: CoreUnderTest, legacyRules?: boolean): unknown {
  try {
    AudioRegistrar.replay(log, { core: core.create(), ...(legacyRules === undefined ? {} : { legacyRules }) });
  } catch (error) {
    return error;
  }
  throw new Error('expected replay to refuse the log');
}

describe.each(coresUnderTest())('replay checks the statements of a record ($name core)', (core) => {
  it('the genuine log replays to the live state hash, with or without legacyRules', () => {
    const { live, seqs } = scene(core);
    const log = live.attestationStore.all();
    expect(log[seqs.byStream - 1]?.metadata.membership).toBe('stream');
    expect(log[seqs.declared - 1]?.metadata.membership).toBe('declared');
    expect(log[seqs.declaredAgain - 1]?.metadata.membership).toBe('declared');
    expect(log[seqs.runtimeError - 1]?.metadata.runtimeError).toBe(true);
    expect(AudioRegistrar.replay(log, { core: core.create() }).stateHash()).toBe(live.stateHash());
    expect(AudioRegistrar.replay(log, { core: core.create(), legacyRules: true }).stateHash()).toBe(live.stateHash());
  });

  it('a membership statement that is not one of the two values is a mismatch at its seq', () => {
    const { live, seqs } = scene(core);
    for (const value of ['bogus-value', true, { basis: 'declared' }]) {
      expect(replayError(planted(live, seqs.byStream, { membership: value }), core)).toMatchObject({
        code: 'REGISTRAR_REPLAY_MISMATCH',
        seq: seqs.byStream,
        message: `seq ${seqs.byStream}: metadata.membership is ${JSON.stringify(value)}; expected 'declared' or 'stream' (or none)`,
      });
    }
  });

  it("'declared' where the registrar states nothing (a user-scoped enable, a not_owner denial, a start) is a mismatch", () => {
    const { live, seqs } = scene(core);
    for (const seq of [seqs.userScoped, seqs.notOwner, 1]) {
      expect(replayError(planted(live, seq, { membership: 'declared' }), core)).toMatchObject({
        code: 'REGISTRAR_REPLAY_MISMATCH',
        seq,
        message: `seq ${seq}: metadata.membership states 'declared', but the registrar states a membership only on a session-scoped enable_override by a user that passed the membership check`,
      });
    }
  });

  it("'stream' must match a stream-implied membership that exists at that point, and no earlier stated declaration", () => {
    const { live, seqs } = scene(core);
    expect(replayError(planted(live, seqs.declared, { membership: 'stream' }), core)).toMatchObject({
      seq: seqs.declared,
      message: `seq ${seqs.declared}: metadata.membership states 'stream', but no stream of session attic was created with userId carol before this seq`,
    });
    expect(replayError(planted(live, seqs.declaredAgain, { membership: 'stream' }), core)).toMatchObject({
      seq: seqs.declaredAgain,
      message: `seq ${seqs.declaredAgain}: metadata.membership states 'stream', but user carol's declaration in session attic was stated earlier in the log, so the registrar states 'declared'`,
    });
  });

  it('a dropped statement is a mismatch; legacyRules (a log older than the rule) reads it as a declaration', () => {
    const { live, seqs } = scene(core);
    expect(replayError(planted(live, seqs.byStream, { membership: undefined }), core)).toMatchObject({
      code: 'REGISTRAR_REPLAY_MISMATCH',
      seq: seqs.byStream,
      message: `seq ${seqs.byStream}: metadata.membership is missing, but user erin is a member of session garage here (the registrar states 'stream')`,
    });
    const withoutDeclaration = planted(live, seqs.declared, { membership: undefined });
    expect(replayError(withoutDeclaration, core)).toMatchObject({
      seq: seqs.declared,
      message: `seq ${seqs.declared}: metadata.membership is missing and user carol is not a member of session attic at this seq (a log written before session memberships replays with { legacyRules: true })`,
    });
    expect(AudioRegistrar.replay(withoutDeclaration, { core: core.create(), legacyRules: true }).stateHash()).toBe(live.stateHash());
  });

  it('runtimeError: required on an allowed system fail of a covered stream, refused elsewhere, true or absent', () => {
    const { live, seqs } = scene(core);
    const dropped = planted(live, seqs.runtimeError, { runtimeError: undefined });
    expect(replayError(dropped, core)).toMatchObject({
      code: 'REGISTRAR_REPLAY_MISMATCH',
      seq: seqs.runtimeError,
      message: `seq ${seqs.runtimeError}: metadata.runtimeError is missing on an allowed system fail of a stream an override covers (the registrar states true; a log written before the statement replays with { legacyRules: true })`,
    });
    expect(AudioRegistrar.replay(dropped, { core: core.create(), legacyRules: true }).stateHash()).toBe(live.stateHash());
    expect(replayError(planted(live, seqs.runtimeError, { runtimeError: 'yes' }), core)).toMatchObject({ seq: seqs.runtimeError, message: expect.stringContaining('metadata.runtimeError is "yes" on an allowed system fail') });
    for (const seq of [seqs.uncoveredFail, seqs.userScoped]) {
      expect(replayError(planted(live, seq, { runtimeError: true }), core, true)).toMatchObject({
        code: 'REGISTRAR_REPLAY_MISMATCH',
        seq,
        message: `seq ${seq}: metadata.runtimeError is true, but the registrar states it only on an allowed system fail of a stream an override covers`,
      });
    }
  });

  // Only a native core can be shared between registrars (a writer and attached ones).
  it.runIf(core.name === 'native')('an attached registrar\'s system fail of a covered stream states runtimeError in the one log too', async () => {
    const a = new AudioRegistrar({ core: core.create() });
    const b = AudioRegistrar.attach(a.share());
    a.registerActor('user:alice');
    const agent = a.registerActor('agent:claude-1');
    const system = b.registerActor('system:runtime');
    const target = expectAllowed(a.request({ action: 'start', actor: agent, metadata: { userId: 'alice' } })).streamId ?? '';
    expectAllowed(a.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }));
    const failed = expectAllowed(b.request({ action: 'fail', actor: system, target, reason: 'device lost' }));
    expect(failed.attestation.metadata.runtimeError).toBe(true);
    expect(a.syncJournal()).toBe(1);
    expect(a.attestationStore.bySeq(failed.attestation.seq)?.metadata).toMatchObject({ runtimeError: true });
    expect(AudioRegistrar.replay(a.attestationStore.all(), { core: core.create() }).stateHash()).toBe(a.stateHash());
    await b.close();
    await a.close();
  });
});

describe('legacyRules', () => {
  it('is validated: InputError naming options.legacyRules', () => {
    for (const call of [() => AudioRegistrar.replay([], { legacyRules: 'yes' as never }), () => AudioRegistrar.restore(new AudioRegistrar().snapshot(), [], { legacyRules: 1 as never })]) {
      expect(call).toThrow(InputError);
      expect(call).toThrow(expect.objectContaining({ field: 'options.legacyRules' }));
    }
  });

  it('openLog of a log older than the rules needs it; the reopened registrar keeps appending', async () => {
    const [reference] = coresUnderTest();
    const { live, seqs } = scene(reference as CoreUnderTest);
    const path = join(dir, 'legacy.jsonl');
    const legacy = planted(live, seqs.declared, { membership: undefined });
    writeFileSync(path, legacy.map((record) => JSON.stringify(record)).join('\n') + '\n');
    expect(() => AudioRegistrar.openLog(path)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: seqs.declared }));
    const { registrar } = AudioRegistrar.openLog(path, { legacyRules: true });
    expect(registrar.stateHash()).toBe(live.stateHash());
    const next = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expect(next.attestation.seq).toBe(legacy.length + 1);
    await registrar.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(legacy.length + 1);
  });
});
