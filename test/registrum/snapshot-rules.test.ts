// Restoring a snapshot checks the rules its state must keep and that it restores to the state its
// stateHash names. Each forgery below recomputes both the stateHash and the hash (what a forger
// with the code does), so only the rule check can catch it; a signature is not asked for.
import { describe, expect, it } from 'vitest';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { RegistrarSnapshot } from '../../src/registrar/snapshot.js';
import { signSnapshot } from '../../src/registrar/snapshot-signature.js';
import { snapshotHash } from '../../src/registrar/snapshot.js';
import { generateKeyPairSync } from 'node:crypto';
import { coresUnderTest, expectAllowed, forgeSnapshot, registrarWith, restoredStateHash, streamIn, type CoreUnderTest } from './cores.js';
import { thrown } from '../helpers/errors.js';

type Snapshot = RegistrarSnapshot;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? { -readonly [P in keyof U]: U[P] }[] : T[K] };


/**
 * A registrar with alice's user-scoped override over her playing stream, her session override in the
 * kitchen (a declared member), a stream bob's in the den with a plugin grant, and its snapshot.
 */
function scene(core: CoreUnderTest): { live: AudioRegistrar; snapshot: Snapshot; alicesStream: string } {
  const live = registrarWith(core);
  const alicesStream = streamIn(live, 'playing', 'agent:claude-1', { sessionId: 'kitchen', userId: 'alice' });
  streamIn(live, 'compiling', 'agent:claude-1', { sessionId: 'den', userId: 'bob', allowPlugins: ['plugin:reverb'] });
  expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.6 } }));
  expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'kitchen', forcedCaptions: true } }));
  return { live, snapshot: live.snapshot(), alicesStream };
}

/** Index of the override of a scope in a snapshot. */
function overrideAt(snapshot: Snapshot, scope: 'user' | 'session'): number {
  return snapshot.overrides.findIndex((override) => override.scope === scope);
}

/** Applies `change` to a mutable copy (for forgeSnapshot). */
function edit(change: (copy: Mutable<Snapshot>) => void): (copy: Snapshot) => Snapshot {
  return (copy) => {
    change(copy as Mutable<Snapshot>);
    return copy;
  };
}

describe.each(coresUnderTest())('snapshot rules on restore ($name core)', (core) => {
  it("the forger's stateHash is the one restore computes: a genuine snapshot restores to its stateHash", () => {
    const { live, snapshot } = scene(core);
    expect(restoredStateHash(snapshot)).toBe(snapshot.stateHash);
    const restored = AudioRegistrar.restore(JSON.parse(JSON.stringify(snapshot)), [], { core: core.create() });
    expect(restored.stateHash()).toBe(live.stateHash());
  });

  it("alice's user-scoped override re-owned by agent:evil is refused (the agent would fail her stream and disable her override)", () => {
    const { snapshot } = scene(core);
    const index = overrideAt(snapshot, 'user');
    const forged = forgeSnapshot(
      snapshot,
      edit((copy) => {
        copy.actors.push('agent:evil');
        (copy.overrides[index] as { owner: string }).owner = 'agent:evil';
      }),
    );
    expect(thrown(() => AudioRegistrar.restore(forged, [], { core: core.create() }))).toMatchObject({
      code: 'REGISTRAR_SNAPSHOT_INVALID',
      seq: 0,
      message: `snapshot: overrides.${index}.owner is "agent:evil", not a user: an override's owner is a user (spec §1)`,
    });
  });

  it("a user-scoped override re-owned by another user is refused: it is its owner's own", () => {
    const { snapshot } = scene(core);
    const index = overrideAt(snapshot, 'user');
    const forged = forgeSnapshot(snapshot, edit((copy) => void ((copy.overrides[index] as { owner: string }).owner = 'user:bob')));
    expect(thrown(() => AudioRegistrar.restore(forged, [], { core: core.create() }))).toMatchObject({
      code: 'REGISTRAR_SNAPSHOT_INVALID',
      message: `snapshot: overrides.${index}.scopeId is alice, but a user-scoped override is its owner's own (scopeId bob for user:bob)`,
    });
  });

  it('a session override owned by a non-member is refused: re-owned, or its membership dropped', () => {
    const { snapshot } = scene(core);
    const index = overrideAt(snapshot, 'session');
    const reOwned = forgeSnapshot(
      snapshot,
      edit((copy) => {
        copy.actors.push('user:mallory');
        (copy.overrides[index] as { owner: string }).owner = 'user:mallory';
      }),
    );
    expect(thrown(() => AudioRegistrar.restore(reOwned, [], { core: core.create() }))).toMatchObject({
      code: 'REGISTRAR_SNAPSHOT_INVALID',
      message: `snapshot: overrides.${index}.owner is user:mallory, who is not a member of session kitchen in memberships: a user enables a session override only for a session they belong to`,
    });
    const noMembership = forgeSnapshot(
      snapshot,
      edit((copy) => {
        const kept = (copy.memberships ?? []).filter((m) => !(m.userId === 'alice' && m.sessionId === 'kitchen'));
        // alice's stream in the kitchen implies her membership too: drop the stream as well.
        copy.memberships = kept;
        copy.streams = copy.streams.filter((stream) => stream.sessionId !== 'kitchen');
      }),
    );
    expect(thrown(() => AudioRegistrar.restore(noMembership, [], { core: core.create() }))).toMatchObject({ message: expect.stringContaining(`overrides.${index}.owner is user:alice, who is not a member of session kitchen`) });
  });

  it('a stream created with a userId without that membership, a bad owner, version or lastSeq, a twin id or a grant to a non-plugin is refused', () => {
    const { snapshot, alicesStream } = scene(core);
    const at = snapshot.streams.findIndex((stream) => stream.streamId === alicesStream);
    const bobs = snapshot.streams.findIndex((stream) => stream.userId === 'bob');
    type Stream = Mutable<Snapshot>['streams'][number];
    const cases: [string, (copy: Mutable<Snapshot>) => void][] = [
      [`streams.${bobs}.userId is bob, but memberships does not list user bob in session den as implied by a stream`, (copy) => void (copy.memberships = (copy.memberships ?? []).filter((m) => m.userId !== 'bob'))],
      [`streams.${at}.owner is "martian:x", not "kind:id" with a known kind`, (copy) => void ((copy.streams[at] as Stream).owner = 'martian:x')],
      [`streams.${at}.version is 0: a stream exists after at least one accepted transition`, (copy) => void ((copy.streams[at] as Stream).version = 0)],
      [`streams.${at}.lastSeq is ${snapshot.lastSeq + 1}, outside 1..${snapshot.lastSeq}`, (copy) => void ((copy.streams[at] as Stream).lastSeq = snapshot.lastSeq + 1)],
      [`streams.${at}.sessionId is empty`, (copy) => void ((copy.streams[at] as Stream).sessionId = '')],
      [`streams.${bobs}.plugins.0 is "agent:claude-1", not "plugin:id"`, (copy) => void ((copy.streams[bobs] as Stream).plugins = ['agent:claude-1'])],
      [`streams.${snapshot.streams.length}.streamId ${alicesStream} is listed twice`, (copy) => void copy.streams.push({ ...(copy.streams[at] as Stream) })],
    ];
    for (const [message, change] of cases) {
      const forged = forgeSnapshot(snapshot, edit(change));
      expect(thrown(() => AudioRegistrar.restore(forged, [], { core: core.create() }))).toMatchObject({ code: 'REGISTRAR_SNAPSHOT_INVALID', message: expect.stringContaining(`snapshot: ${message}`) });
    }
  });

  it('a twin override or membership, an unknown actor kind, an out-of-range value, or no memberships at all is refused', () => {
    const { snapshot } = scene(core);
    const index = overrideAt(snapshot, 'session');
    const cases: [string, (copy: Mutable<Snapshot>) => void][] = [
      [`overrides.${snapshot.overrides.length}.scopeId override session:kitchen is listed twice`, (copy) => void copy.overrides.push({ ...(copy.overrides[index] as Mutable<Snapshot>['overrides'][number]) })],
      [`memberships.${snapshot.memberships?.length ?? 0}`, (copy) => void copy.memberships?.push({ ...(copy.memberships?.[0] as NonNullable<Mutable<Snapshot>['memberships']>[number]) })],
      [`actors.${snapshot.actors.length} is "martian:x"`, (copy) => void copy.actors.push('martian:x')],
      [`overrides.${index}.speechRate`, (copy) => void ((copy.overrides[index] as { speechRate?: number }).speechRate = 99)],
      ['memberships is absent: the snapshot was taken before session memberships existed', (copy) => void delete copy.memberships],
    ];
    for (const [message, change] of cases) {
      const forged = forgeSnapshot(snapshot, edit(change));
      expect(thrown(() => AudioRegistrar.restore(forged, [], { core: core.create() }))).toMatchObject({ code: 'REGISTRAR_SNAPSHOT_INVALID', message: expect.stringContaining(`snapshot: ${message}`) });
    }
  });

  it('content edited without recomputing the stateHash, or a stateHash replaced, is refused by the state hash', () => {
    const { snapshot } = scene(core);
    // A state the rules allow (alice's overrides gone), with only the hash recomputed.
    const edited = { ...JSON.parse(JSON.stringify(snapshot)), overrides: [] } as Snapshot;
    const rehashed = { ...edited, hash: snapshotHash(edited) };
    expect(thrown(() => AudioRegistrar.restore(rehashed, [], { core: core.create() }))).toMatchObject({
      code: 'REGISTRAR_SNAPSHOT_INVALID',
      seq: 0,
      message: expect.stringMatching(/^snapshot: stateHash [0-9a-f]{16}… is not the hash of the state it restores \([0-9a-f]{16}…\)/),
    });
    const restated = { ...JSON.parse(JSON.stringify(snapshot)), stateHash: 'f'.repeat(64) } as Snapshot;
    expect(thrown(() => AudioRegistrar.restore({ ...restated, hash: snapshotHash(restated) }, [], { core: core.create() }))).toMatchObject({ code: 'REGISTRAR_SNAPSHOT_INVALID', message: expect.stringContaining('stateHash ffffffffffffffff…') });
    // With both recomputed, the same state the rules allow restores: only a signature or the log tells.
    expect(AudioRegistrar.restore(forgeSnapshot(snapshot, (copy) => ({ ...copy, overrides: [] })), [], { core: core.create() }).listOverrides()).toEqual([]);
  });
});

describe('snapshot rules elsewhere', () => {
  it('signSnapshot refuses to sign a snapshot that breaks a rule', () => {
    const [reference] = coresUnderTest();
    const { snapshot } = scene(reference as CoreUnderTest);
    const index = overrideAt(snapshot, 'user');
    const forged = forgeSnapshot(snapshot, edit((copy) => void ((copy.overrides[index] as { owner: string }).owner = 'agent:claude-1')));
    expect(thrown(() => signSnapshot(forged, { privateKey: generateKeyPairSync('ed25519').privateKey }))).toMatchObject({ code: 'REGISTRAR_SNAPSHOT_INVALID', message: expect.stringContaining(`overrides.${index}.owner`) });
  });
});
