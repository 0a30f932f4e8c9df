/**
 * The edge trimmer on synthetic signals: exactly the margin kept before the first and after the
 * last sound, chunk by chunk; quiet stretches inside a segment kept; times shifted with the audio;
 * a noise floor under −60 dBFS is silence. Planted: without the trim the edges stay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatPcm } from '../../src/audio/pcm.js';
import { EDGE_MARGIN_MS, EdgeTrimmer, edgeMarginFrames, shiftMetadata, soundSpan } from '../../src/engine/speech-edges.js';
import { joinSentenceSteps, planSynthesis } from '../../src/compiler/index.js';
import { compile } from '../../src/compiler/compile.js';

const RATE = 24_000;

function tone(ms: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round((ms * RATE) / 1000));
  for (let index = 0; index < out.length; index++) out[index] = amplitude * Math.sin((2 * Math.PI * 220 * index) / RATE);
  return out;
}
const zeros = (ms: number) => new Float32Array(Math.round((ms * RATE) / 1000));

function trimAll(chunks: Float32Array[]): { pcm: Float32Array; shifts: number[] } {
  const trimmer = new EdgeTrimmer(RATE);
  const out: Float32Array[] = [];
  const shifts: number[] = [];
  for (const chunk of chunks) {
    const trimmed = trimmer.push(chunk);
    out.push(trimmed.pcm);
    shifts.push(trimmed.shiftMs);
  }
  trimmer.end();
  return { pcm: concatPcm(out), shifts };
}

describe('EdgeTrimmer', () => {
  const margin = edgeMarginFrames(RATE);

  it('keeps the margin around the sound, or what the backend had when it had less (nothing added)', () => {
    const speech = tone(200);
    const span = soundSpan(speech) as { first: number; last: number };
    const trimmer = new EdgeTrimmer(RATE);
    const kept = trimmer.push(concatPcm([zeros(12), speech, zeros(300)])).pcm;
    trimmer.end();
    expect([trimmer.headFrames, trimmer.tailFrames]).toEqual([margin, margin]);
    expect(kept.length).toBe(margin + (span.last - span.first + 1) + margin);
    const tight = new EdgeTrimmer(RATE);
    const oneMs = zeros(1).length;
    const out = tight.push(concatPcm([zeros(1), speech])).pcm;
    expect(out.length).toBe(oneMs + speech.length);
    expect([tight.headFrames, tight.tailFrames]).toEqual([oneMs + span.first, speech.length - 1 - span.last]);
    expect(EDGE_MARGIN_MS).toBe(5);
  });

  it('keeps quiet stretches between chunks of one segment and drops silent chunks at its edges', () => {
    const parts = [zeros(50), concatPcm([zeros(10), tone(100)]), zeros(80), concatPcm([tone(100), zeros(300)]), zeros(40)];
    const { pcm, shifts } = trimAll(parts);
    const soundFrames = (soundSpan(tone(100)) as { last: number }).last + 1;
    // margin + first tone + (its own trailing zero samples + 80 ms held) + second tone + margin
    expect(pcm.length).toBeGreaterThanOrEqual(margin + tone(100).length + zeros(80).length + soundFrames + margin - 2);
    expect(pcm.length).toBeLessThanOrEqual(margin + tone(100).length + zeros(80).length + tone(100).length + margin);
    // The first sounding chunk lost 10 ms of its head (minus the margin): its times move back.
    expect(shifts[1]).toBeLessThanOrEqual(EDGE_MARGIN_MS - 10 + 0.1);
    // The next one starts after the held quiet stretch: its times move forward by it.
    expect(shifts[3]).toBeGreaterThanOrEqual(80);
  });

  it('digital near-zero (below −140 dBFS) is silence; a segment with no sound at all yields nothing', () => {
    const nearZero = new Float32Array(RATE).map((_, index) => (index % 2 === 0 ? 5e-8 : -5e-8));
    expect(soundSpan(nearZero)).toBeNull();
    expect(trimAll([nearZero]).pcm.length).toBe(0);
  });

  it('quiet speech is sound relative to its own peak: a −70 dBFS chunk is trimmed like a loud one, not dropped', () => {
    const scale = 10 ** (-70 / 20) / 0.5;
    const loud = concatPcm([zeros(12), tone(200), zeros(300)]);
    const quiet = loud.map((sample) => sample * scale);
    expect(soundSpan(quiet)).toEqual(soundSpan(loud));
    expect(trimAll([quiet]).pcm.length).toBe(trimAll([loud]).pcm.length);
    // Planted: the old absolute −60 dBFS floor took it all for silence.
    expect(quiet.every((sample) => Math.abs(sample) <= 0.001)).toBe(true);
  });

  it('a chunk with word timings but no sound is kept whole, untrimmed (speech is never dropped)', () => {
    const nearZero = new Float32Array(Math.round(0.1 * RATE)).fill(1e-8);
    expect(new EdgeTrimmer(RATE).push(nearZero, true).pcm.length).toBe(nearZero.length);
    // Planted: without the word timings it is silence and dropped.
    expect(new EdgeTrimmer(RATE).push(nearZero, false).pcm.length).toBe(0);
  });

  it('shifts word timings and visemes with the audio, clamped at 0', () => {
    const moved = shiftMetadata({ wordTimings: [{ word: 'a', startMs: 3, endMs: 50, source: 'estimated' }], visemes: [{ viseme: 'PP', startMs: 20, endMs: 40, source: 'estimated' }] }, -7);
    expect(moved.wordTimings?.[0]).toMatchObject({ startMs: 0, endMs: 43 });
    expect(moved.visemes?.[0]).toMatchObject({ startMs: 13, endMs: 33 });
  });

  it('planted: a chunk passed through untrimmed keeps its 300 ms tail (what the margin check catches)', () => {
    const raw = concatPcm([zeros(12), tone(200), zeros(300)]);
    expect(raw.length - trimAll([raw]).pcm.length).toBeGreaterThan(Math.round(0.3 * RATE));
  });
});

describe('joinSentenceSteps', () => {
  it('joins the pieces of an emphasised sentence into one step with parts, keeping each piece’s delivery', () => {
    const steps = joinSentenceSteps(planSynthesis(compile('This is *very* important. Next one.')));
    const speech = steps.filter((step) => step.kind === 'speech');
    expect(speech.map((step) => step.segment.text)).toEqual(['This is very important.', 'Next one.']);
    const parts = speech[0]?.segment.parts ?? [];
    expect(parts.map((part) => [part.text, part.emphasis ?? null, part.prosody.rate])).toEqual([
      ['This is', null, 1],
      ['very', 'moderate', 0.95],
      ['important.', null, 1],
    ]);
    expect(speech[0]?.segment.prosody.rate).toBe(1);
    expect(speech[1]?.segment.parts).toBeUndefined();
  });

  it('keeps a mark, a break, or a language change inside a sentence as a split', () => {
    const marked = joinSentenceSteps(planSynthesis(compile('<speak>This is <mark name="m"/><emphasis>very</emphasis> good.</speak>')));
    expect(marked.filter((step) => step.kind === 'speech').length).toBe(2);
    const broken = joinSentenceSteps(planSynthesis(compile('<speak>This is <break time="100ms"/><emphasis>very</emphasis> good.</speak>')));
    expect(broken.filter((step) => step.kind === 'speech').length).toBe(2);
    const languages = joinSentenceSteps(planSynthesis(compile('<speak>Say <voice xml:lang="fr-FR">bonjour</voice> now.</speak>')));
    expect(languages.filter((step) => step.kind === 'speech').length).toBe(3);
  });
});

describe('joinSentenceSteps properties', () => {
  const markup = fc
    .array(fc.constantFrom('*very*', '**much**', '[pause 200ms]', '{joy}', '{/joy}', 'word', 'other', ' ', '. ', '! ', '\n\n', ','), { maxLength: 30 })
    .map((pieces) => pieces.join(' '));
  it('keeps every non-speech step in order, one speech step per run of same-sentence pieces, their texts and deliveries', () => {
    fc.assert(
      fc.property(markup, (text) => {
        const steps = planSynthesis(compile(text, { lenient: true }));
        const joined = joinSentenceSteps(steps);
        expect(joined.filter((step) => step.kind !== 'speech')).toEqual(steps.filter((step) => step.kind !== 'speech'));
        const speech = joined.filter((step) => step.kind === 'speech');
        // No two adjacent speech steps of one sentence remain.
        joined.forEach((step, index) => {
          const next = joined[index + 1];
          if (step.kind === 'speech' && next?.kind === 'speech') expect(next.sentenceIndex).not.toBe(step.sentenceIndex);
        });
        // The pieces, with their own prosody, are all there in order.
        const pieces = speech.flatMap((step) => step.segment.parts?.map((part) => [part.text, part.prosody]) ?? [[step.segment.text, step.segment.prosody]]);
        expect(pieces).toEqual(steps.flatMap((step) => (step.kind === 'speech' ? [[step.segment.text, step.segment.prosody]] : [])));
      }),
      { numRuns: 300 },
    );
  });
});
