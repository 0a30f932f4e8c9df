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

  it('negative: a script just under the bound is not refused by it (the check counts the pauses, not the turns)', () => {
    const turns = parseScript(Array.from({ length: 59 }, (_, index) => `[pause 60s]\nAlice: ${index}.`).join('\n').replace(/^\[pause 60s\]\n/, ''));
    const pauses = turns.reduce((total, turn) => total + (turn.gapMs ?? 0), 0);
    expect(pauses).toBeLessThan(MAX_CONVERSATION_RENDER_MS);
  });
});
