import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { parseScript } from '../../src/conversation/script.js';

function parseError(script: string): InputError {
  try {
    parseScript(script);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('the script parsed');
}

describe('Conversation.fromScript', () => {
  it('reads turns, pauses, overlaps, barge-ins, stage directions, continuations and comments', () => {
    const turns = parseScript(
      ['# a comment', '', 'Alice: Hello!', 'Bob: (laughs) Hi there.', '   And welcome.', '(Alice sits down)', '[pause 500ms]', 'Alice: Thanks.', '[overlap 1.5s]', 'Bob: Sure.', '[barge-in]', 'Alice: Wait!'].join('\n'),
    );
    expect(turns).toEqual([
      { speaker: 'Alice', text: 'Hello!' },
      { speaker: 'Bob', text: 'Hi there. And welcome.', emotion: 'joy' },
      { speaker: 'Alice', text: 'Thanks.', gapMs: 500 },
      { speaker: 'Bob', text: 'Sure.', overlapMs: 1500 },
      { speaker: 'Alice', text: 'Wait!', bargeIn: true },
    ]);
    const conversation = Conversation.fromScript('Alice: Hi.\nBob: Hello.\nalice: Again.');
    expect([...conversation.cast().keys()]).toEqual(['Alice', 'Bob']);
  });

  it('gives each speaker a distinct default voice of the engine (espeak-ng), and the cast wins (case-insensitive)', async () => {
    const conversation = Conversation.fromScript('Alice: Hi.\nBob: Hello.\nCarol: Hey.', { cast: { BOB: { voice: 'en-gb' } } });
    // Before an engine is known, only the cast's own voices are set.
    expect([...conversation.cast().values()].map((entry) => entry.voice)).toEqual([undefined, 'en-gb', undefined]);
    const engine = new VoiceEngine();
    try {
      const voices = [...(await conversation.castOn(engine)).values()].map((entry) => entry.voice);
      expect(voices).toEqual(['en-us', 'en-gb', 'en-gb+m3']);
      expect([...conversation.cast().values()].map((entry) => entry.voice)).toEqual(voices);
    } finally {
      await engine.close();
    }
    const oneVoice = Conversation.fromScript('Alice: Hi.\nBob: Hello.', { defaultVoices: [] });
    const prosody = [...oneVoice.cast().values()];
    expect(prosody[0]?.pitchSemitones).not.toBe(prosody[1]?.pitchSemitones);
  });

  it.each([
    ['Alice: Hi.\n[pause soon]\nBob: Hello.', 2, /\[pause …\] needs a duration/],
    ['Alice: Hi.\n\n[dance]\nBob: Hello.', 3, /unknown direction \[dance\]/],
    ['Alice: Hi.\nthis line has no speaker\n', 2, /expected "Speaker: text"/],
    ['# intro\nAlice: (waves)\n', 2, /the turn of Alice has nothing to say/],
    ['Alice: Hi.\n[pause 200ms]\n', 2, /a direction must be followed by a turn/],
    ['[overlap 200ms]\nAlice: Hi.', 2, /the first turn \(Alice\) has no turn before it/],
    ['Alice: Hi.\n[pause 100ms]\n[overlap 50ms]\nBob: Yo.', 3, /both wait \(pause\) and overlap/],
  ])('names the line of a bad script: %j', (script, line, message) => {
    const error = parseError(script);
    expect(error.code).toBe('SCRIPT_INVALID');
    expect(error.field).toBe(`script:${line}`);
    expect(error.message).toMatch(new RegExp(`^script line ${line}: `));
    expect(error.message).toMatch(message);
  });

  it('refuses an empty script and bad turns or options with InputError naming the field', () => {
    expect(parseError('# only a comment\n').message).toMatch(/no turns/);
    expect(() => new Conversation([])).toThrow(/turns: /);
    expect(() => new Conversation([{ speaker: 'a', text: '' }])).toThrow(/turns\.0\.text/);
    expect(() => new Conversation([{ speaker: 'a', text: 'hi' }, { speaker: 'b', text: 'yo', gapMs: 10, overlapMs: 10 }])).toThrow(/turns\.1\.overlapMs: a turn cannot have both/);
    expect(() => new Conversation([{ speaker: 'a', text: 'hi', bargeIn: true }])).toThrow(/turns\.0: the first turn/);
    expect(() => new Conversation([{ speaker: 'a', text: 'hi' }], { cast: { a: { voice: 'x', rate: 9 } } })).toThrow(/options\.cast\.a\.rate/);
    expect(() => new Conversation([{ speaker: 'a', text: 'hi' }], { gapMs: -1 })).toThrow(/options\.gapMs/);
  });

  it('has no timeline before a render', () => {
    expect(() => Conversation.fromScript('A: hi').timeline()).toThrow(expect.objectContaining({ code: 'CONVERSATION_NOT_RENDERED' }));
  });
});
