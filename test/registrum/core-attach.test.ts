// Attaching to a native decision core is a capability (release blocker A12): the share token
// "<handle>.<32 hex>" carries a 128-bit random secret, readable only from an object that holds the
// core. Guessed handles, wrong, truncated or borrowed secrets all get REGISTRAR_CORE_NOT_FOUND with
// one message; an agent that shares no object with the host (same thread or a worker) cannot reach
// the host's core; load() only restores into a fresh, unshared core (REGISTRAR_CORE_IN_USE).
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, NativeError } from '../../src/errors.js';
import { nativeBinding } from '../../src/native/loader.js';
import { REGISTRAR_IO_BYTES } from '../../src/native/registrar-binding.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest, type TransitionAction } from '../../src/registrar/core.js';
import { createDefaultCore } from '../../src/registrar/default-core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { AttachWorkerJob, AttachWorkerReport } from './fixtures/attach-worker.js';

const WORKER_SCRIPT = new URL('./fixtures/attach-worker.ts', import.meta.url).href;
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;
const ZERO_SECRET = '0'.repeat(32);
const TOKEN_SHAPE = /^([1-9][0-9]*)\.([0-9a-f]{32})$/;

function runWorker(job: AttachWorkerJob): Promise<AttachWorkerReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: job });
    let report: AttachWorkerReport | undefined;
    worker.on('message', (message: AttachWorkerReport) => (report = message));
    worker.on('error', reject);
    worker.on('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`attach worker exited ${code}`))));
  });
}

function parts(token: string): { handle: string; secret: string } {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) throw new Error(`not a share token: ${token}`);
  return { handle: match[1]!, secret: match[2]! };
}

/** The error `attach` throws, or null when it attached (the attached object is closed). */
function attachError(token: string): NativeError | InputError | null {
  try {
    NativeCore.attach(token).close();
    return null;
  } catch (error) {
    if (error instanceof NativeError || error instanceof InputError) return error;
    throw error;
  }
}

const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const core of opened.splice(0)) core.close();
});
function track<T extends { close(): void }>(core: T): T {
  opened.push(core);
  return core;
}

function requestOn(core: NativeCore, action: TransitionAction, stream: number, actor: string, kind: (typeof ACTOR_KINDS)[number]): CoreRequest {
  return {
    actor: core.actorId(actor), actorKind: ACTOR_KINDS.indexOf(kind), action: TRANSITION_ACTIONS.indexOf(action), stream,
    newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session: core.internScope(0, 'default'), user: NO_ID, overrideScope: 0,
    overrideScopeId: NO_ID, pluginAllowed: false,
  };
}

describe('attaching to a native core needs its share token', () => {
  it('a token is the handle and 32 hex digits of secret, different for every core', () => {
    const a = track(new NativeCore());
    const b = track(new NativeCore());
    expect(a.shareToken).toMatch(TOKEN_SHAPE);
    expect(b.shareToken).toMatch(TOKEN_SHAPE);
    expect(parts(a.shareToken).handle).not.toBe(parts(b.shareToken).handle);
    expect(parts(a.shareToken).secret).not.toBe(parts(b.shareToken).secret);
    // An attached object hands out the same token (it may share the core on).
    const attached = track(NativeCore.attach(a.shareToken));
    expect(attached.shareToken).toBe(a.shareToken);
    // The token is no own property: logging or serialising a core does not leak it.
    expect(Object.keys(a)).toEqual([]);
    expect(JSON.stringify(a)).not.toContain(parts(a.shareToken).secret);
  });

  it('the right token attaches, and both objects decide on one core', () => {
    const host = track(new NativeCore());
    host.registerActor('agent:a', ACTOR_KINDS.indexOf('agent'));
    const stream = host.internStream('s');
    expect(host.decide(requestOn(host, 'start', stream, 'agent:a', 'agent')).allowed).toBe(true);
    const attached = track(NativeCore.attach(host.shareToken));
    expect(attached.decide(requestOn(attached, 'synthesize', stream, 'agent:a', 'agent'))).toMatchObject({ allowed: true, seq: 2 });
    expect(host.stream(stream)).toMatchObject({ state: 2, version: 2 });
    expect(host.lastSeq()).toBe(2);
  });

  it('a guessed handle, a wrong secret, a truncated token and another core\'s secret all get REGISTRAR_CORE_NOT_FOUND, with one message', () => {
    const host = track(new NativeCore());
    const other = track(new NativeCore());
    const { handle, secret } = parts(host.shareToken);
    const flipped = `${secret.slice(0, 31)}${secret[31] === '0' ? '1' : '0'}`;
    const guesses = [
      `${handle}.${ZERO_SECRET}`, // the handle with a guessed secret
      `${handle}.${flipped}`, // one bit-ish off
      `${handle}.${secret[0] === 'a' ? 'b' : 'a'}${secret.slice(1)}`, // first digit off
      `${handle}.${parts(other.shareToken).secret}`, // another core's secret
      `${handle}.${secret}0`, // one digit too many
      `4294967295.${secret}`, // the right secret under a handle never issued
      `0.${secret}`,
      `${parts(other.shareToken).handle}.${secret}`, // the secrets are per core, not per process
    ];
    // Every truncation that still looks like a token.
    for (let length = host.shareToken.length - 1; length > handle.length + 1; length -= 1) guesses.push(host.shareToken.slice(0, length));
    const errors = guesses.map((guess) => attachError(guess));
    for (const [index, error] of errors.entries()) {
      expect(error, guesses[index]).toBeInstanceOf(NativeError);
      expect(error, guesses[index]).toMatchObject({ code: 'REGISTRAR_CORE_NOT_FOUND' });
    }
    // No oracle: a live handle with a wrong secret reads exactly like an unknown handle.
    expect(new Set(errors.map((error) => error?.message)).size).toBe(1);
    // A closed core's token is refused the same way.
    const closed = new NativeCore();
    const closedToken = closed.shareToken;
    closed.close();
    expect(attachError(closedToken)).toMatchObject({ code: 'REGISTRAR_CORE_NOT_FOUND', message: errors[0]!.message });
    // Nothing was decided on the host's core by any of it.
    expect(host.lastSeq()).toBe(0);
  });

  it('a value not shaped like a token is an InputError naming shareToken (the old numeric handle included)', () => {
    const host = track(new NativeCore());
    const { handle } = parts(host.shareToken);
    for (const value of [Number(handle), handle, `${handle}.`, '', 'share', `${handle}.xyz`, `${handle}.${'A'.repeat(32)}`, ` ${host.shareToken}`, `${host.shareToken}${'0'.repeat(64)}`, null, undefined, {}]) {
      const error = attachError(value as string);
      expect(error, String(value)).toBeInstanceOf(InputError);
      expect((error as InputError).field, String(value)).toBe('shareToken');
      expect((error as InputError).message).not.toContain(parts(host.shareToken).secret.slice(0, 8)); // never echoed
    }
  });

  it('the addon itself refuses a bare handle or a guessed secret (no way around the TypeScript check)', () => {
    const host = track(new NativeCore());
    const { handle, secret } = parts(host.shareToken);
    const { RegistrarCore } = nativeBinding();
    const io = () => new ArrayBuffer(REGISTRAR_IO_BYTES);
    expect(() => new RegistrarCore(Number(handle) as unknown as string, 0, io())).toThrow(TypeError);
    expect(() => new RegistrarCore(`${handle}.${ZERO_SECRET}`, 0, io())).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_NOT_FOUND' }));
    expect(() => new RegistrarCore(handle, 0, io())).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_NOT_FOUND' }));
    const raw = track(new RegistrarCore(`${handle}.${secret}`, 0, io()));
    expect(raw.shareToken).toBe(host.shareToken);
    raw.close();
    expect(() => raw.shareToken).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_CLOSED' }));
  });

  it('a worker given the token attaches and decides; the host\'s registrar attests it from the journal', async () => {
    const core = track(new NativeCore());
    const registrar = new AudioRegistrar({ core });
    const agent = registrar.registerActor('agent:assistant');
    const started = registrar.request({ action: 'start', actor: agent });
    const streamKey = started.streamId!;
    for (const action of ['synthesize', 'play'] as const) expect(registrar.request({ action, actor: agent, target: streamKey }).allowed).toBe(true);
    expect(registrar.getState(streamKey)?.state).toBe('playing');
    const report = await runWorker({ mode: 'token', shareToken: core.shareToken, streamKey, owner: 'agent:assistant' });
    expect(report.allowed).toBe(true);
    expect(registrar.syncJournal()).toBe(1);
    expect(registrar.getState(streamKey)?.state).toBe('stopped');
    expect(registrar.attestationStore.all().at(-1)).toMatchObject({ action: 'stop', decision: 'allowed', metadata: { origin: 'journal' } });
  });
});

describe('the A12 attack: an agent holding only public exports probes for the host\'s core', () => {
  it('in the host\'s thread, createDefaultCore().constructor.attach over handles 1..N attaches to nothing and decides nothing', () => {
    // Host side: a default registrar (native core), alice's override, the agent's stream started.
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const alice = registrar.registerActor('user:alice', { sessions: ['default'] });
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'default' } }).allowed).toBe(true);
    const started = registrar.request({ action: 'start', actor: agent });
    const streamId = started.streamId!;
    const stateBefore = registrar.getState(streamId)?.state;
    expect(stateBefore).toBe('compiling');
    const seqBefore = registrar.attestationStore.lastSeq;

    // Agent side: only createDefaultCore(). The probe is a NativeCore (else there is nothing to attack).
    const probe = track(createDefaultCore() as NativeCore);
    expect(probe).toBeInstanceOf(NativeCore);
    const attach = (probe.constructor as typeof NativeCore).attach.bind(probe.constructor);
    const { handle: ownHandle, secret: ownSecret } = parts(probe.shareToken);
    let attached = 0;
    let reachedHost = 0;
    const codes = new Set<string>();
    for (let handle = 1; handle <= Number(ownHandle) + 16; handle += 1) {
      if (handle === Number(ownHandle)) continue;
      for (const guess of [handle, String(handle), `${handle}.${ZERO_SECRET}`, `${handle}.${ownSecret}`, `${handle}.${'f'.repeat(32)}`]) {
        try {
          const core = track(attach(guess as string));
          attached += 1;
          if (core.streamIdOf(streamId) >= 0) {
            reachedHost += 1;
            core.decide(requestOn(core, 'interrupt', core.streamIdOf(streamId), 'user:alice', 'user'));
            core.decide({ ...requestOn(core, 'disable_override', NO_ID, 'user:alice', 'user'), overrideScopeId: core.internScope(0, 'default') });
          }
        } catch (error) {
          codes.add((error as { code?: string }).code ?? 'uncoded');
        }
      }
    }
    expect(attached).toBe(0);
    expect(reachedHost).toBe(0);
    expect([...codes].sort()).toEqual(['INPUT_INVALID', 'REGISTRAR_CORE_NOT_FOUND']);

    // Host side: nothing happened to its core.
    expect(registrar.syncJournal()).toBe(0);
    expect(registrar.attestationStore.lastSeq).toBe(seqBefore);
    expect(registrar.getState(streamId)?.state).toBe(stateBefore);
    expect(registrar.listOverrides()).toHaveLength(1);
  });

  it('from a worker thread sharing no object with the host (A12c), no guess attaches', async () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const started = registrar.request({ action: 'start', actor: agent });
    const streamId = started.streamId!;
    const stateBefore = registrar.getState(streamId)?.state;
    expect(stateBefore).toBe('compiling');
    const seqBefore = registrar.attestationStore.lastSeq;
    const report = await runWorker({ mode: 'probe', streamKey: streamId, margin: 16 });
    expect(report.attempts).toBeGreaterThan(0);
    expect(report.attached).toBe(0);
    expect(report.codes).toEqual(['INPUT_INVALID', 'REGISTRAR_CORE_NOT_FOUND', 'TypeError']);
    expect(registrar.syncJournal()).toBe(0);
    expect(registrar.attestationStore.lastSeq).toBe(seqBefore);
    expect(registrar.getState(streamId)?.state).toBe(stateBefore);
  });
});

describe('load() restores into a fresh core only', () => {
  function populated(): { core: NativeCore; stream: number } {
    const core = track(new NativeCore());
    core.registerActor('agent:a', ACTOR_KINDS.indexOf('agent'));
    core.internScope(0, 'default');
    return { core, stream: core.internStream('s') };
  }

  it('after a decision (or an evaluation, or a reserved seq) load() is REGISTRAR_CORE_IN_USE and changes nothing', () => {
    const source = populated();
    source.core.decide(requestOn(source.core, 'start', source.stream, 'agent:a', 'agent'));
    const image = source.core.image();

    for (const consume of [
      (core: NativeCore, stream: number) => core.decide(requestOn(core, 'start', stream, 'agent:a', 'agent')),
      (core: NativeCore, stream: number) => core.evaluate(requestOn(core, 'start', stream, 'agent:a', 'agent')),
      (core: NativeCore) => core.reserveSeq(),
    ]) {
      const { core, stream } = populated();
      consume(core, stream);
      const before = core.image();
      expect(() => core.load(image)).toThrow(NativeError);
      expect(() => core.load(image)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_IN_USE' }));
      expect(core.image()).toEqual(before);
    }
    // A fresh core takes it.
    const fresh = populated();
    fresh.core.load(image);
    expect(fresh.core.image()).toEqual(image);
  });

  it('while another object is attached (A12b: attach, then rewrite the host\'s state) load() is REGISTRAR_CORE_IN_USE, from either side', () => {
    const source = populated();
    source.core.decide(requestOn(source.core, 'start', source.stream, 'agent:a', 'agent'));
    const image = source.core.image();
    const { core } = populated();
    const attached = track(NativeCore.attach(core.shareToken));
    expect(() => attached.load(image)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_IN_USE' }));
    expect(() => core.load(image)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_IN_USE' }));
    expect(core.stream(source.stream)).toBeNull();
    // Once the other object lets go, the (still fresh) core can be restored.
    attached.close();
    core.load(image);
    expect(core.image()).toEqual(image);
  });

  it('restore (snapshot + tail) still loads into a fresh core, and refuses a core that already decided', () => {
    const live = new AudioRegistrar();
    const agent = live.registerActor('agent:a');
    const started = live.request({ action: 'start', actor: agent });
    live.request({ action: 'synthesize', actor: agent, target: started.streamId });
    const snapshot = live.snapshot();
    const restored = AudioRegistrar.restore(snapshot, [], { core: track(new NativeCore()) });
    expect(restored.getState(started.streamId!)).toMatchObject({ state: 'synthesizing' });
    const used = track(new NativeCore());
    used.reserveSeq();
    expect(() => AudioRegistrar.restore(snapshot, [], { core: used })).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_IN_USE' }));
  });
});
