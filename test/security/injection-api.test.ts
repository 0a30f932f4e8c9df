import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { INJECTION_CORPUS, type InjectionCategory } from '../fixtures/security/injection-corpus.js';
import { COMPILE_FACES, graphOutput, judgeOutcome, runCompileFace, type Verdict } from '../helpers/injection-runner.js';

describe('injection corpus through compile (API)', () => {
  it('has at least 200 payloads covering every category of the issue', () => {
    expect(INJECTION_CORPUS.length).toBeGreaterThanOrEqual(200);
    const categories = new Set<InjectionCategory>(INJECTION_CORPUS.map((payload) => payload.category));
    expect([...categories].sort()).toEqual(['attribute-breakout', 'audio-file', 'bidi', 'depth-bomb', 'entity', 'extreme-rate', 'long-break', 'mark-name', 'misc', 'surrogate', 'tag-in-text']);
  });

  for (const face of COMPILE_FACES) {
    it(`${face.name}: 0 successes (${face.mode})`, () => {
      const verdicts: Verdict[] = INJECTION_CORPUS.map((payload) => runCompileFace(face, payload));
      expect(verdicts.filter((verdict) => verdict.success !== null)).toEqual([]);
      // Both ways of meeting a payload happen, so the judge saw real output.
      expect(verdicts.some((verdict) => verdict.outcome === 'spoken')).toBe(true);
      if (face.mode === 'bounded') expect(verdicts.some((verdict) => verdict.outcome === 'refused')).toBe(true);
    });
  }

  describe('the judge catches planted injections', () => {
    const payload = { id: 'planted', category: 'misc' as const, text: 'x' };
    it('an effect in a literal face', () => {
      expect(judgeOutcome(payload, 'literal', graphOutput(compile('<speak>a<break time="1s"/>b</speak>')))).toBe('a break took effect');
      expect(judgeOutcome(payload, 'literal', graphOutput(compile('<speak><mark name="m"/>a</speak>')))).toBe('a mark reached events: "m"');
      expect(judgeOutcome(payload, 'literal', graphOutput(compile('<speak><prosody rate="2">a</prosody></speak>')))).toMatch(/^prosody changed/);
      expect(judgeOutcome(payload, 'literal', graphOutput(compile('<speak><voice name="v">a</voice></speak>')))).toBe('a voice was chosen: v');
      expect(judgeOutcome(payload, 'literal', graphOutput(compile('<speak><audio src="/x.wav"/></speak>', { allowAudio: true })))).toBe('a clip was read: /x.wav');
    });
    it('an effect beyond the caps in a bounded face', () => {
      const base = { marks: [], silenceRunsMs: [], breaks: 0, clips: [], prosody: [], voices: [], emphasis: 0, spokenText: '' };
      expect(judgeOutcome(payload, 'bounded', { ...base, silenceRunsMs: [20_000] })).toMatch(/silence of 20000 ms/);
      expect(judgeOutcome(payload, 'bounded', { ...base, prosody: [{ rate: 10, pitchSemitones: 0, volumeDb: 0 }] })).toBe('rate 10 beyond the cap');
      expect(judgeOutcome(payload, 'bounded', { ...base, marks: ['a\u202Eb'] })).toMatch(/unsafe mark name/);
      expect(judgeOutcome(payload, 'bounded', { ...base, spokenText: 'XXEXPANDED' })).toBe('an entity was expanded');
      expect(judgeOutcome(payload, 'bounded', { ...base, clips: ['/etc/passwd'] })).toMatch(/clip was read/);
    });
  });

  it('consecutive breaks together stay within the cap (fixed by the corpus)', () => {
    const graph = compile(`<speak>a${'<break time="10s"/><mark name="m"/>'.repeat(50)}b</speak>`);
    expect(graphOutput(graph).silenceRunsMs).toEqual([10_000]);
    expect(compile('<speak>a<break time="6s"/>b<break time="6s"/>c</speak>').durationMs).toBeGreaterThan(12_000);
  });

  it('mark names are safe tokens: hidden, markup or over-long names are refused (fixed by the corpus)', () => {
    expect(() => compile('<speak><mark name="a&#x202E;b"/></speak>')).toThrow('<mark> name "a\\u202Eb" is not valid');
    expect(() => compile('<speak><mark name="&lt;b&gt;"/></speak>')).toThrow(/is not valid/);
    expect(() => compile(`<speak><mark name="${'m'.repeat(129)}"/></speak>`)).toThrow(/is not valid/);
    expect(graphOutput(compile('<speak><mark name="a&#x202E;b"/>x</speak>', { lenient: true })).marks).toEqual([]);
    expect(graphOutput(compile('<speak><mark name="chapter-2.intro_ü"/>x</speak>')).marks).toEqual(['chapter-2.intro_ü']);
  });
});
