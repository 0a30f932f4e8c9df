// The log writer tells its listeners about other threads' decisions as it drains them into its
// log (on its own request's catch-up, on the doorbell, on flush()). A listener that decides in
// response (the runtime's scheduler re-checking on an override, a conversation ending a turn, an
// observer interrupting) must get an answer like any request: before, its request threw
// ATTESTATION_CHAIN_BROKEN after the core had applied the decision (its record was appended while
// the drained records before it were not yet), and the log then held it rebuilt from the journal,
// without its text. Attached in the writer's own thread: what is checked is the registrar's answer.
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { verify } from '../../src/registrar/verify.js';

/** A writer and a registrar attached to it, and the writer's answers to requests made inside its listeners. */
function shared() {
  const writer = new AudioRegistrar({ core: new NativeCore() });
  const attached = AudioRegistrar.attach(writer.share());
  const host = writer.registerActor('agent:host');
  const worker = attached.registerActor('agent:worker');
  const answers: (RegistrarResult | Error)[] = [];
  /** Decides `input` on the writer from inside a listener, keeping the result or what it threw. */
  const decideInside = (input: Parameters<AudioRegistrar['request']>[0]): void => {
    try {
      answers.push(writer.request(input));
    } catch (error) {
      answers.push(error as Error);
    }
  };
  return { writer, attached, host, worker, answers, decideInside };
}

/** The writer's log, checked: the chain verifies, seqs run 1..n. */
function checkedLog(writer: AudioRegistrar): Attestation[] {
  const records = [...writer.attestationStore.records()];
  expect(verify(records)).toMatchObject({ ok: true, errors: [] });
  expect(records.map((record) => record.seq)).toEqual(records.map((_, index) => index + 1));
  return records;
}

describe('a writer listener that decides while the writer drains other threads\' decisions', () => {
  it('on the writer\'s own request (its catch-up): the listener\'s request is answered and logged with its text, in seq order; the outer request too', async () => {
    const { writer, attached, host, worker, answers, decideInside } = shared();
    const heard: number[] = [];
    writer.onTransition((event) => {
      heard.push(event.seq);
      if (event.actor === 'agent:worker' && answers.length === 0) decideInside({ action: 'start', actor: host, reason: 'reacting to the worker' });
    });
    const theirs = attached.request({ action: 'start', actor: worker });
    const mine = writer.request({ action: 'start', actor: host, reason: 'the host\'s own' });
    expect(answers).toHaveLength(1);
    const inside = answers[0] as RegistrarResult;
    expect(inside).not.toBeInstanceOf(Error);
    expect(inside.allowed).toBe(true);
    await writer.flush();
    const records = checkedLog(writer);
    expect(records.find((record) => record.seq === theirs.attestation.seq)?.id).toBe(theirs.attestation.id);
    const logged = records.find((record) => record.seq === inside.attestation.seq);
    expect(logged).toMatchObject({ id: inside.attestation.id, decision: 'allowed', parameters: { reason: 'reacting to the worker' } });
    expect(logged?.metadata.origin).toBeUndefined();
    expect(records.find((record) => record.seq === mine.attestation.seq)).toMatchObject({ parameters: { reason: 'the host\'s own' } });
    // Told in seq order, each once.
    expect(heard).toEqual([...heard].sort((a, b) => a - b));
    expect(new Set(heard).size).toBe(heard.length);
    expect(heard).toEqual(expect.arrayContaining([theirs.attestation.seq, mine.attestation.seq, inside.attestation.seq]));
    await attached.close();
    await writer.close();
  });

  it('on flush() (and the doorbell\'s drain): the listener\'s request is answered and logged with its text', async () => {
    const { writer, attached, host, worker, answers, decideInside } = shared();
    writer.onTransition((event) => {
      if (event.actor === 'agent:worker' && event.action === 'start' && answers.length < 2) decideInside({ action: 'start', actor: host, reason: `reacting to ${event.seq}` });
    });
    attached.request({ action: 'start', actor: worker });
    attached.request({ action: 'start', actor: worker });
    await writer.flush();
    expect(answers).toHaveLength(2);
    for (const answer of answers) expect(answer).not.toBeInstanceOf(Error);
    const records = checkedLog(writer);
    for (const answer of answers as RegistrarResult[]) {
      const logged = records.find((record) => record.seq === answer.attestation.seq);
      expect(logged?.id).toBe(answer.attestation.id);
      expect(logged?.metadata.origin).toBeUndefined();
      expect(String(logged?.parameters.reason)).toMatch(/^reacting to \d+$/);
    }
    await attached.close();
    await writer.close();
  });

  it('an onOverride listener (the scheduler re-checks on another thread\'s override) decides: answered, logged', async () => {
    const { writer, attached, host, answers, decideInside } = shared();
    const user = attached.registerActor('user:alice');
    writer.onOverride(() => decideInside({ action: 'start', actor: host, reason: 'the scheduler re-checked' }));
    attached.request({ action: 'enable_override', actor: user, metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.8 } });
    writer.request({ action: 'start', actor: host });
    expect(answers).toHaveLength(1);
    expect(answers[0]).not.toBeInstanceOf(Error);
    await writer.flush();
    const logged = checkedLog(writer).find((record) => record.seq === (answers[0] as RegistrarResult).attestation.seq);
    expect(logged).toMatchObject({ parameters: { reason: 'the scheduler re-checked' } });
    await attached.close();
    await writer.close();
  });

  it('an onHalt listener that decides after another thread\'s halt is answered registrar_halted, never a throw', async () => {
    const { writer, attached, host, answers, decideInside } = shared();
    const alice = attached.registerActor('user:alice');
    const mallory = attached.registerActor('user:mallory', { sessions: ['kitchen'] });
    attached.registerActor('user:alice', { sessions: ['kitchen'] });
    writer.onHalt(() => decideInside({ action: 'start', actor: host, reason: 'after the halt' }));
    expect(attached.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'kitchen' } }).allowed).toBe(true);
    const bypass = attached.request({ action: 'enable_override', actor: mallory, metadata: { scope: 'session', scopeId: 'kitchen' } });
    expect(bypass.attestation.metadata.halt).toBe(true);
    const after = writer.request({ action: 'start', actor: host });
    expect(after.reason).toBe('registrar_halted');
    expect(answers).toHaveLength(1);
    expect(answers[0]).not.toBeInstanceOf(Error);
    expect((answers[0] as RegistrarResult).reason).toBe('registrar_halted');
    await writer.flush();
    checkedLog(writer);
    await attached.close();
    await writer.close();
  });
});
