// Every halt stops everything (issue 7.3) and transition listeners see every allowed decision (7.1).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { RegistrarHaltedError } from '../../src/registrar/errors.js';
import { ACTOR_KINDS } from '../../src/registrar/core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { HaltInfo, TransitionEvent } from '../../src/registrar/types.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('halts and transitions ($name core)', (core) => {
  it('transition listeners get each allowed decision on a stream once, from any actor; denials and shadow decisions are not transitions', () => {
    const r = registrarWith(core);
    const events: TransitionEvent[] = [];
    const stop = r.onTransition((event) => events.push(event));
    const target = streamIn(r, 'playing');
    expect(events.map((event) => `${event.action}:${event.stateBefore}->${event.stateAfter}`)).toEqual([
      'start:null->compiling',
      'synthesize:compiling->synthesizing',
      'play:synthesizing->playing',
    ]);
    r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target });
    r.observeAsHost({ action: 'interrupt', actor: 'agent:claude-1', target });
    expect(events).toHaveLength(3);
    const allowed = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target, reason: 'barge-in' }));
    expect(events[3]).toEqual({
      streamId: target,
      action: 'interrupt',
      actor: 'agent:claude-1',
      stateBefore: 'playing',
      stateAfter: 'interrupting',
      seq: allowed.attestation.seq,
      attestationId: allowed.attestation.id,
      reason: 'barge-in',
    });
    stop();
    r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target });
    expect(events).toHaveLength(4);
  });

  it('a throwing listener neither breaks the decision nor starves the other listeners', () => {
    const r = registrarWith(core);
    const seen: string[] = [];
    r.onTransition(() => {
      throw new Error('listener bug');
    });
    r.onTransition((event) => seen.push(event.action));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      expect(streamIn(r, 'synthesizing')).toMatch(/^stream-/);
    } finally {
      process.off('warning', onWarning);
    }
    expect(seen).toEqual(['start', 'synthesize']);
  });

  it('an accessibility bypass halt notifies once, keeps its cause and denies everything after', () => {
    const r = registrarWith(core);
    streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } }));
    const halts: HaltInfo[] = [];
    r.onHalt((halt) => halts.push(halt));
    const bypass = r.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
    r.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    expect(halts).toEqual([{ cause: 'accessibility_bypass', message: bypass.message, seq: bypass.attestation.seq, attestationId: bypass.attestation.id }]);
    const late: HaltInfo[] = [];
    r.onHalt((halt) => late.push(halt));
    expect(late).toEqual(halts);
  });

  it('a failed log write halts: listeners are told, the cause is kept, and every later request is denied registrar_halted', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vs-halt-')), 'log.jsonl');
    const { store } = AttestationStore.open(path, { durability: 'fsync' });
    const r = registrarWith(core, { store });
    const halts: HaltInfo[] = [];
    r.onHalt((halt) => halts.push(halt));
    await store.close();
    const lost = r.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    await expect(lost.durable).rejects.toMatchObject({ code: 'ATTESTATION_LOG_CLOSED' });
    expect(halts).toHaveLength(1);
    expect(halts[0]).toMatchObject({ cause: 'attestation_io', seq: null, attestationId: null });
    expect(r.haltCause?.cause).toBe('attestation_io');
    const after = r.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    expect(after.reason).toBe('registrar_halted');
    expect(after.attestation.metadata.haltCause).toBe('attestation_io');
  });
});

describe('structural halt', () => {
  /** A reference core whose allowed decisions are rewritten by `lie` once `lying.on` is set. */
  function lyingCore(lie: (decision: ReturnType<ReferenceCore['decide']>) => ReturnType<ReferenceCore['decide']>) {
    const switchOn = { on: false };
    const core = new Proxy(new ReferenceCore(), {
      get(target, property, receiver) {
        if (property === 'decide') {
          return (request: Parameters<ReferenceCore['decide']>[0]) => {
            const decision = target.decide(request);
            return switchOn.on && decision.allowed ? lie(decision) : decision;
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { core, switchOn };
  }

  it('a core that reports a state the parent did not leave halts (state.lineage.continuous)', () => {
    const { core: lying, switchOn } = lyingCore((decision) => ({ ...decision, stateBefore: 3 }));
    const r = new AudioRegistrar({ core: lying });
    const agent = r.registerActor('agent:one');
    const started = r.request({ action: 'start', actor: agent });
    switchOn.on = true;
    const forged = r.request({ action: 'synthesize', actor: agent, target: started.streamId });
    expect(forged.violations.map((violation) => violation.message)).toContain(`state before seq 2 is playing, its parent left compiling`);
    expect(r.haltCause?.cause).toBe('structural');
  });

  it('a core that skips a stream version halts the registrar with cause structural, shown by the violating record', () => {
    const { core: lying, switchOn } = lyingCore((decision) => ({ ...decision, version: decision.version + 1 }));
    const r = new AudioRegistrar({ core: lying });
    const agent = r.registerActor('agent:one');
    const halts: HaltInfo[] = [];
    r.onHalt((halt) => halts.push(halt));
    const started = r.request({ action: 'start', actor: agent });
    switchOn.on = true;
    const jumped = r.request({ action: 'synthesize', actor: agent, target: started.streamId });
    expect(jumped.violations.map((violation) => violation.invariant)).toContain('state.lineage.continuous');
    expect(jumped.attestation.metadata).toMatchObject({ halt: true, haltCause: 'structural' });
    expect(halts).toEqual([expect.objectContaining({ cause: 'structural', seq: jumped.attestation.seq, attestationId: jumped.attestation.id })]);
    expect(() => r.require(jumped)).toThrow(RegistrarHaltedError);
    expect(r.request({ action: 'play', actor: agent, target: started.streamId }).reason).toBe('registrar_halted');
  });
});

describe('journal overrun halt', () => {
  it('a registrar that fell behind the shared journal halts with cause journal_overrun and tells its listeners', () => {
    // Seqs decided on the core before any registrar wrote its log, more than the journal holds.
    const core = new ReferenceCore({ journalCapacity: 4 });
    core.registerActor('agent:one', ACTOR_KINDS.indexOf('agent'));
    for (let index = 0; index < 6; index += 1) core.reserveSeq();
    const b = new AudioRegistrar({ core });
    const halts: HaltInfo[] = [];
    b.onHalt((halt) => halts.push(halt));
    // request() never throws: the overrun is a halt, and the request that found it is denied.
    expect(b.requestAsHost({ action: 'start', actor: 'agent:one' }).reason).toBe('registrar_halted');
    expect(halts.map((halt) => halt.cause)).toEqual(['journal_overrun']);
    expect(b.haltCause?.cause).toBe('journal_overrun');
    expect(b.requestAsHost({ action: 'start', actor: 'agent:one' }).reason).toBe('registrar_halted');
  });
});

describe('listeners cannot break decisions or delay effects', () => {
  it('a listener throwing an unprintable value neither makes request() throw nor keeps later listeners from hearing; effect listeners are told before observers registered earlier', () => {
    const r = new AudioRegistrar({ core: new ReferenceCore() });
    const agent = r.registerActor('agent:one');
    const order: string[] = [];
    r.onTransition(() => {
      order.push('hostile observer');
      throw Object.create(null);
    });
    r.onHalt(() => {
      throw Object.create(null);
    });
    r.onTransition((event) => order.push(`effect ${event.action}`), { phase: 'effect' });
    const onWarning = () => undefined;
    process.on('warning', onWarning);
    try {
      const started = r.request({ action: 'start', actor: agent });
      expect(started.allowed).toBe(true);
      expect(order).toEqual(['effect start', 'hostile observer']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a decision made inside a listener is told after the current one, to every listener, in order', () => {
    const r = new AudioRegistrar({ core: new ReferenceCore() });
    const agent = r.registerActor('agent:one');
    const first: string[] = [];
    const second: string[] = [];
    r.onTransition((event) => {
      first.push(event.action);
      if (event.action === 'play') r.request({ action: 'interrupt', actor: agent, target: event.streamId });
    });
    r.onTransition((event) => second.push(event.action));
    const target = r.request({ action: 'start', actor: agent }).streamId ?? '';
    r.request({ action: 'synthesize', actor: agent, target });
    r.request({ action: 'play', actor: agent, target });
    expect(first).toEqual(['start', 'synthesize', 'play', 'interrupt']);
    expect(second).toEqual(first);
  });
});
