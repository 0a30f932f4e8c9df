import { afterAll, describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { AudioChunk } from '../../src/engine/speech-types.js';
import { INJECTION_CORPUS } from '../fixtures/security/injection-corpus.js';
import { chunksOutput, ENGINE_FACES, judgeOutcome, refusalVerdict, type Verdict } from '../helpers/injection-runner.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';

// A real backend with cheap synthesis: the engine's handling of marks, breaks and clips is what is judged.
const backend = new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 8, gapFrames: 8, level: 0.1 });
const engine = new VoiceEngine({ backend });
afterAll(() => engine.close());

describe('injection corpus through the engine (API)', () => {
  for (const face of ENGINE_FACES) {
    it(`${face.name}: 0 successes (${face.mode})`, async () => {
      const verdicts: Verdict[] = [];
      for (const payload of INJECTION_CORPUS) {
        const chunks: AudioChunk[] = [];
        const before = backend.segments.length;
        try {
          for await (const chunk of engine.stream(face.input(payload.text), face.options)) chunks.push(chunk);
        } catch (error) {
          verdicts.push(refusalVerdict(face.name, payload.id, error));
          continue;
        }
        const spoken = backend.segments.slice(before).join(' ');
        verdicts.push({ face: face.name, id: payload.id, outcome: 'spoken', success: judgeOutcome(payload, face.mode, chunksOutput(chunks, spoken)) });
      }
      expect(verdicts.filter((verdict) => verdict.success !== null)).toEqual([]);
      expect(verdicts.filter((verdict) => verdict.outcome === 'spoken').length).toBeGreaterThan(INJECTION_CORPUS.length / 4);
    }, 120_000);
  }

  it('the judge sees marks and breaks that the engine streams (planted)', async () => {
    const chunks: AudioChunk[] = [];
    for await (const chunk of engine.stream('<speak>a<mark name="m"/><break time="10s"/><break time="10s"/>b</speak>')) chunks.push(chunk);
    const output = chunksOutput(chunks, '');
    const payload = { id: 'planted', category: 'misc' as const, text: '' };
    expect(judgeOutcome(payload, 'literal', output)).toBe('a mark reached events: "m"');
    // The two breaks are one capped run (10 s), so the bounded judge accepts it; 21 s would not be.
    expect(judgeOutcome(payload, 'bounded', output)).toBeNull();
    expect(judgeOutcome(payload, 'bounded', { ...output, silenceRunsMs: [21_000] })).toMatch(/beyond the 10000 ms cap/);
  });
});
