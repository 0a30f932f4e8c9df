/**
 * Test helpers for the registrum suite: the decision cores every test runs against (the reference
 * core and the native core, which must load), and small flows.
 */
import type { DecisionCore } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar, type AudioRegistrarOptions } from '../../src/registrar/registrar.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { recordHash, GENESIS_HASH, type Attestation } from '../../src/attestation/record.js';
import { replayHooksOf } from '../../src/registrar/replay-hooks.js';
import { loadSnapshot, snapshotHash, type RegistrarSnapshot } from '../../src/registrar/snapshot.js';

/** A named factory of fresh decision cores. */
export interface CoreUnderTest {
  name: string;
  create(): DecisionCore;
}

/**
 * The native core. The addon is built by every `npm install`, so a native core that does not load
 * is a failure, not a reason to test less: this throws at import, naming the load error, and every
 * registrum test file fails with it.
 */
function nativeFactory(): CoreUnderTest {
  try {
    new NativeCore().close();
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const reason = cause instanceof Error ? `${typeof code === 'string' ? code : cause.name}: ${cause.message}` : String(cause);
    throw new Error(`the native registrar core does not load, so the registrum suite cannot run against it: ${reason}`, { cause });
  }
  return { name: 'native', create: () => new NativeCore() };
}
const native = nativeFactory();

/** The cores to run every registrar test against: the reference core and the native core. */
export function coresUnderTest(): CoreUnderTest[] {
  return [{ name: 'reference', create: () => new ReferenceCore() }, native];
}

/** The sessions the usual cast's users (alice, bob) are declared members of (spec §1): they may
 *  enable session overrides there. Tests of the membership rule use other sessions. */
export const USUAL_SESSIONS = ['default', 'den', 'kitchen', 'living-room', 'x'] as const;

/** A registrar on a fresh core with the usual cast registered (users declared in USUAL_SESSIONS). */
export function registrarWith(core: CoreUnderTest, options: Omit<AudioRegistrarOptions, 'core'> = {}): AudioRegistrar {
  const registrar = new AudioRegistrar({ ...options, core: core.create() });
  for (const actor of ['agent:claude-1', 'agent:other', 'plugin:reverb', 'plugin:rogue', 'system:runtime']) {
    registrar.registerActor(actor);
  }
  for (const user of ['user:alice', 'user:bob']) registrar.registerActor(user, { sessions: [...USUAL_SESSIONS] });
  return registrar;
}

/** Drives a new stream of `actor` up to `state`; returns its id. */
export function streamIn(
  registrar: AudioRegistrar,
  state: 'compiling' | 'synthesizing' | 'playing' | 'interrupting' | 'stopped' | 'failed' | 'idle',
  actor = 'agent:claude-1',
  metadata: Record<string, unknown> = {},
): string {
  const started = expectAllowed(registrar.requestAsHost({ action: 'start', actor, metadata }));
  const target = started.streamId ?? '';
  const path: Record<typeof state, string[]> = {
    compiling: [],
    synthesizing: ['synthesize'],
    playing: ['synthesize', 'play'],
    interrupting: ['synthesize', 'play', 'interrupt'],
    stopped: ['synthesize', 'play', 'stop'],
    failed: ['fail'],
    idle: ['fail', 'restart'],
  };
  for (const action of path[state]) expectAllowed(registrar.requestAsHost({ action, actor, target }));
  return target;
}

/** Asserts a result is allowed (with its message on failure) and returns it. */
export function expectAllowed(result: RegistrarResult): RegistrarResult {
  if (!result.allowed) throw new Error(`expected allowed, got ${result.reason}: ${result.message}`);
  return result;
}

/** Re-seals a (modified) log so its hash chain is valid again: what a forger with the hashing code could do. */
export function reseal(records: readonly Attestation[], startHash = GENESIS_HASH): Attestation[] {
  let previous = startHash;
  return records.map((record) => {
    const linked = { ...record, prevHash: previous } as Attestation;
    const sealed = { ...linked, hash: recordHash(linked) } as Attestation;
    previous = sealed.hash;
    return sealed;
  });
}

/**
 * The state hash a snapshot's content restores to, computed by loading it the way restore does but
 * without restore's checks: what a forger with the code computes to make `stateHash` match an edit.
 */
export function restoredStateHash(snapshot: RegistrarSnapshot): string {
  const core = new ReferenceCore();
  const facade = loadSnapshot(core, snapshot);
  const registrar = new AudioRegistrar({ core });
  replayHooksOf(registrar).loadFacadeState(facade, snapshot.actors);
  return registrar.stateHash();
}

/** What a forger does to a snapshot: edits a deep copy, then recomputes its `stateHash` and `hash` (any signature is kept as it was). */
export function forgeSnapshot(snapshot: RegistrarSnapshot, change: (copy: RegistrarSnapshot) => RegistrarSnapshot): RegistrarSnapshot {
  const edited = change(JSON.parse(JSON.stringify(snapshot)) as RegistrarSnapshot);
  const restated = { ...edited, stateHash: restoredStateHash(edited) };
  return { ...restated, hash: snapshotHash(restated) };
}

/** A deep, mutable copy of a log. */
export function mutableCopy(records: readonly Attestation[]): Attestation[] {
  return JSON.parse(JSON.stringify(records)) as Attestation[];
}

/** Canonical JSON, re-exported for tests. */
export { canonicalJson };
