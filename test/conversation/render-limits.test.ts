/**
 * A conversation render holds every turn and the mixdown in memory: one whose pauses alone pass
 * MAX_CONVERSATION_RENDER_MS is refused before any turn is synthesized (no stream started), while
 * the same script played live is not limited by it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import { MAX_CONVERSATION_RENDER_MS } from '../../src/conversation/timeline.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { parseScript } from '../../src/conversation/script.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';

let engine: VoiceEngine;
beforeAll(() => {
  engine = new VoiceEngine();
});
afterAll(async () => engine.close());

describe('conversation render limits', () => {
  it('refuses a script of long pauses (CONVERSATION_TOO_LONG) before any stream starts', async () => {
    // 70 turns, each after [pause 60s]: 70 minutes of silence, allocated as a mixdown before the fix.
    const script = Array.from({ length: 70 }, (_, index) => `[pause 60s]\n${index % 2 === 0 ? 'Alice' : 'Bob'}: ${index}.`).join('\n');
    const conversation = Conversation.fromScript(script.replace(/^\[pause 60s\]\n/, ''));
    const before = engine.registrar.attestations(100_000).filter((record) => record.action === 'start').length;
    const error = await engine.speak(conversation).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('CONVERSATION_TOO_LONG');
    expect(engine.registrar.attestations(100_000).filter((record) => record.action === 'start').length).toBe(before);
  });

  it("refuses a render once its turns together pass the bound, as they arrive: stacked turns (each overlapping all of the one before) made a one-minute mix of any number of minute-long turns, every one held (planted: 100 such turns rendered, 100 minutes held)", async () => {
    const registrar = new AudioRegistrar();
    const host = new VoiceEngine({ registrar, audioBackend: 'null', backend: new ConstantLevelBackend({ level: 0.1, sampleRateHz: 8_000, framesPerSegment: 80 }) });
    try {
      // Each turn about a minute of pauses, overlapping the whole of the one before: placed, they all start together.
      const minute = 'a [pause 10s] '.repeat(6);
      const turns = Array.from({ length: 100 }, (_, index) => ({ speaker: index % 2 === 0 ? 'Alice' : 'Bob', text: minute, ...(index > 0 ? { overlapMs: 60_000 } : {}) }));
      for (const engine of [host, await host.forActor(registrar.registerActor('agent:guest'))]) {
        const before = registrar.listStates().length;
        const error = await engine.speak(new Conversation(turns)).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).code).toBe('CONVERSATION_TOO_LONG');
        expect((error as InputError).message).toMatch(/^conversation: its turns together last 360\d\.\d s, more than the 3600 s a render may hold in memory/);
        // Refused as the turn past the bound arrived: about 60 of the 100 turns were synthesized, none after.
        const started = registrar.listStates().length - before;
        expect(started).toBeGreaterThan(50);
        expect(started).toBeLessThan(65);
        expect(registrar.listStates().every((stream) => stream.state === 'stopped')).toBe(true);
      }
      // Within the bound it renders as before: ten stacked minutes mix down to about one.
      const mixed = await host.speak(new Conversation(turns.slice(0, 10)));
      expect(mixed.durationMs).toBeLessThan(2 * 60_000);
    } finally {
      await host.close();
    }
  }, 120_000);

  it('negative: a script just under the bound is not refused by it (the check counts the pauses, not the turns)', () => {
    const turns = parseScript(Array.from({ length: 59 }, (_, index) => `[pause 60s]\nAlice: ${index}.`).join('\n').replace(/^\[pause 60s\]\n/, ''));
    const pauses = turns.reduce((total, turn) => total + (turn.gapMs ?? 0), 0);
    expect(pauses).toBeLessThan(MAX_CONVERSATION_RENDER_MS);
  });
});
