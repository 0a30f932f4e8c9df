/**
 * What the listener heard, checked against the device's captured output: a backend with known
 * (reported) word timings plays on the null device with capture, is interrupted mid-word, and
 * the heard/unheard boundary must fall within one device period + the fade of the true cut (the
 * last non-silent captured sample).
 */
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { isEspeakEventsHelperBuilt } from '../../src/backends/espeak-events.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { heardOf, type HeardLevel, type PlayedChunk } from '../../src/streaming/heard.js';
import type { AudioVoice } from '../../src/audio/voice.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { contribution } from '../helpers/mix-checks.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';
import { waitUntil } from '../helpers/waiting.js';
import { WatchedOutput } from '../helpers/watched-output.js';

const RATE_HZ = 16_000;
const PERIOD_FRAMES = 256;
const TONE_FRAMES = 1600;
const GAP_FRAMES = 480;
const TEXT = 'Alpha bravo charlie delta. Echo foxtrot golf hotel. India juliet kilo lima. Mike november oscar papa.';

interface SpanMs {
  startMs: number;
  endMs: number;
}

/** Silences padded into a capture (capture index = device frame), as underrun events report them. */
type Silences = readonly { atFrame: number; frames: number }[];

/** A capture index on the stream's clock: frames since its first, minus the padded silence before it. */
function streamFrame(index: number, firstFrame: number, silences: Silences): number {
  return index - firstFrame - silences.reduce((sum, gap) => sum + (gap.atFrame < index ? gap.frames : 0), 0);
}

/** Where each word truly sounded, on the stream clock: the tone runs of the capture (one per word). */
function toneRunsMs(pcm: Float32Array, firstFrame: number, silences: Silences): SpanMs[] {
  const runs: SpanMs[] = [];
  for (let index = firstFrame; index < pcm.length; index++) {
    const sounding = Math.abs(pcm[index] ?? 0) >= 1e-6;
    const before = index > firstFrame && Math.abs(pcm[index - 1] ?? 0) >= 1e-6;
    // The word's full length is the fixture's tone: a run cut short still says where the word was.
    const at = streamFrame(index, firstFrame, silences);
    if (sounding && !before) runs.push({ startMs: (at / RATE_HZ) * 1000, endMs: ((at + TONE_FRAMES) / RATE_HZ) * 1000 });
  }
  return runs;
}

/**
 * Words whose heard level contradicts the capture beyond the tolerance: sounded and ended before
 * the true cut → `full`, straddling it → `partial`, started after it or never sounded → `none`.
 */
function misplacedWords(levels: readonly HeardLevel[], truth: readonly SpanMs[], trueCutMs: number, toleranceMs: number): string[] {
  return levels.flatMap((level, index) => {
    const span = truth[index];
    if (!span) return level === 'none' ? [] : [`word ${index} never sounded: ${level}, expected none`];
    const { startMs, endMs } = span;
    const clearlyBefore = endMs <= trueCutMs - toleranceMs;
    const clearlyAfter = startMs >= trueCutMs + toleranceMs;
    const clearlyAcross = startMs <= trueCutMs - toleranceMs && endMs >= trueCutMs + toleranceMs;
    const expected = clearlyBefore ? 'full' : clearlyAfter ? 'none' : clearlyAcross ? 'partial' : undefined;
    return expected !== undefined && level !== expected ? [`word ${index} (${startMs}–${endMs} ms): ${level}, expected ${expected}`] : [];
  });
}

/** First and last non-silent sample of a capture. */
function soundSpan(pcm: Float32Array): { first: number; last: number } {
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first] ?? 0) < 1e-6) first += 1;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last] ?? 0) < 1e-6) last -= 1;
  return { first, last };
}

describe('heard: what reached the device', () => {
  // Stalls before the first sentence (the voice waits, opened, for its first frame) and before the
  // second (the device underruns mid-stream): neither may move the boundary.
  it.each<{ name: string; stallMs: Record<number, number> }>([
    { name: 'no stall', stallMs: {} },
    { name: 'a stall before the stream and one mid-stream', stallMs: { 0: 150, 1: 1000 } },
  ])('an interrupt mid-word ($name): the heard/unheard boundary is within one period + the fade of the captured cut', async ({ stallMs }) => {
    const layoutBackend = new ToneWordsBackend({ sampleRateHz: RATE_HZ, toneFrames: TONE_FRAMES, gapFrames: GAP_FRAMES, level: 0.5 });
    const backend = new ToneWordsBackend({ sampleRateHz: RATE_HZ, toneFrames: TONE_FRAMES, gapFrames: GAP_FRAMES, level: 0.5, stallMs });
    const output = new WatchedOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, capture: true, captureFrames: RATE_HZ * 30 });
    const engine = new VoiceEngine({ backend, output });
    try {
      // The layout (chunk places and word timings) of this text, from stream(): deterministic.
      const layout: PlayedChunk[] = [];
      const layoutEngine = new VoiceEngine({ backend: layoutBackend, output });
      for await (const chunk of layoutEngine.stream(TEXT)) {
        layout.push({ startFrame: Math.round((chunk.startMs * RATE_HZ) / 1000), frames: chunk.pcm.length, text: chunk.kind === 'speech' ? chunk.text : undefined, wordTimings: chunk.metadata.wordTimings });
      }
      await layoutEngine.close();
      const speech = layout.filter((chunk) => chunk.text !== undefined);
      expect(speech).toHaveLength(4);
      expect(layout[0]?.text).toBeDefined(); // the first frame of the stream is the first word's tone
      // Aim 40 ms into the second word of the second sentence.
      const target = speech[1] as PlayedChunk;
      const aimFrames = target.startFrame + Math.round((((target.wordTimings?.[1]?.startMs ?? 0) + 40) * RATE_HZ) / 1000);

      let heardByListener: unknown;
      const playing = engine.play(TEXT, { onInterrupted: (heard) => (heardByListener = heard) });
      const captured: Float32Array[] = [];
      let capturedFrames = 0;
      let firstSound = -1;
      await waitUntil(() => {
        const piece = output.readCapture();
        if (firstSound < 0) {
          const { first } = soundSpan(piece);
          if (first < piece.length) firstSound = capturedFrames + first;
        }
        captured.push(piece.slice());
        capturedFrames += piece.length;
        // Aimed on the stream's clock: the frames of the voice mixed, not the silence its underruns padded.
        return firstSound >= 0 && (output.voices[0]?.stats().framesPlayed ?? 0) >= aimFrames;
      }, 'the aimed frame to be played');
      const streamId = engine.activeStreams()[0] ?? '';
      expect(engine.interrupt(streamId).allowed).toBe(true);
      const result = await playing;
      expect(result.interrupted).toBe(true);
      await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
      const callbacks = output.stats().callbacks;
      await waitUntil(() => output.stats().callbacks > callbacks + 2, 'periods after the fade');
      captured.push(output.readCapture().slice());
      const all = new Float32Array(captured.reduce((sum, piece) => sum + piece.length, 0));
      captured.reduce((offset, piece) => (all.set(piece, offset), offset + piece.length), 0);

      // The true cut on the stream's clock: last sound minus first sound, minus silence padded mid-stream
      // by underruns (the stream's own voice's: its first sound is its start, it underruns only after).
      const { first, last } = soundSpan(all);
      const voice = output.voices[0] as AudioVoice;
      expect(output.voices).toHaveLength(1);
      expect(first).toBe(output.startedAt.get(voice.id));
      const silences = output.starved.get(voice.id) ?? [];
      const starvedMidStream = silences.reduce((sum, gap) => sum + gap.frames, 0);
      expect(starvedMidStream > 0).toBe(voice.stats().underruns > 0);
      expect(starvedMidStream).toBeLessThanOrEqual(output.stats().starvedFrames);
      if (stallMs[1] !== undefined) expect(starvedMidStream).toBeGreaterThan(0);
      expect(output.stats().captureOverflowFrames).toBe(0);
      const trueCutMs = ((streamFrame(last, first, silences) + 1) / RATE_HZ) * 1000;
      const toleranceMs = ((PERIOD_FRAMES + output.fadeFrames) / RATE_HZ) * 1000;

      const truth = toneRunsMs(all, first, silences);
      expect(truth.length).toBeGreaterThanOrEqual(5);
      expect(truth.length).toBeLessThan(16);
      const heard = result.heard;
      expect(heard).toBeDefined();
      if (!heard) return;
      expect(heardByListener).toEqual(heard);
      expect(heard.cutAtMs).not.toBeNull();
      // Word timings on the right clock (stream-relative, from chunk-relative reported ones)...
      truth.forEach((span, index) => {
        expect(Math.abs((heard.words[index]?.startMs ?? Infinity) - span.startMs)).toBeLessThanOrEqual(1000 / RATE_HZ);
      });
      // ...and the heard/unheard boundary where the capture says the sound stopped.
      expect(misplacedWords(heard.words.map((word) => word.heard), truth, trueCutMs, toleranceMs)).toEqual([]);
      expect(heard.playedMs).toBeGreaterThanOrEqual(trueCutMs - toleranceMs);
      // The cut fell in the second sentence, after its first word.
      expect(heard.words.slice(0, 5).every((word) => word.heard === 'full')).toBe(true);
      expect(heard.words.slice(8).every((word) => word.heard === 'none')).toBe(true);
      expect(heard.text.startsWith('Alpha bravo charlie delta. Echo')).toBe(true);

      // The engine's record is the pure computation over the layout at its played position (for
      // the chunks synthesized before the cut: what was never synthesized has no words to report).
      const position = { playedFrames: Math.round((heard.playedMs * RATE_HZ) / 1000), cutAtFrames: Math.round(((heard.cutAtMs ?? 0) * RATE_HZ) / 1000), sampleRateHz: RATE_HZ };
      expect(heardOf(layout, position).words.slice(0, heard.words.length)).toEqual(heard.words);
      // Negative: plant an off-by-one-chunk offset (each chunk placed where the one before it starts): the check catches it.
      const offByOneChunk = layout.map((chunk, index) => ({ ...chunk, startFrame: layout[index - 1]?.startFrame ?? 0 }));
      const planted = heardOf(offByOneChunk, position).words;
      expect(misplacedWords(planted.map((word) => word.heard), truth, trueCutMs, toleranceMs)).not.toEqual([]);
      expect(planted.some((word, index) => Math.abs(word.startMs - (truth[index]?.startMs ?? Infinity)) > toleranceMs)).toBe(true);
    } finally {
      await engine.close();
      output.close();
    }
  });

  it('espeak on a device at another rate: each word once, measured when the events helper is built (else estimated), on the stream clock', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 48_000, channels: 2, periodFrames: 480 });
    const engine = new VoiceEngine({ output });
    try {
      const text = 'The quick brown fox jumps. Over the lazy dog.';
      const result = await engine.play(text);
      const words = result.heard?.words ?? [];
      expect(words.map((word) => word.word)).toEqual(['The', 'quick', 'brown', 'fox', 'jumps', 'Over', 'the', 'lazy', 'dog']);
      const source = isEspeakEventsHelperBuilt() ? 'reported' : 'estimated';
      expect(words.every((word) => word.source === source && word.heard === 'full')).toBe(true);
      for (let index = 1; index < words.length; index++) expect(words[index]?.startMs).toBeGreaterThanOrEqual(words[index - 1]?.endMs ?? Infinity);
      // The second sentence's words sit after the first sentence, not at its start (the chunk clock).
      expect(words[5]?.startMs).toBeGreaterThan(words[4]?.endMs ?? Infinity);
      expect(words.at(-1)?.endMs).toBeLessThanOrEqual(result.heard?.playedMs ?? 0);
      expect(result.heard?.text).toBe(text);
    } finally {
      await engine.close();
      output.close();
    }
  });

  it('a natural end: every word heard in full, playedMs the whole stream, no cut', async () => {
    const backend = new ToneWordsBackend({ sampleRateHz: RATE_HZ, toneFrames: 320, gapFrames: 160, level: 0.5 });
    const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES });
    const engine = new VoiceEngine({ backend, output });
    let called = false;
    try {
      const result = await engine.play('One two three. Four five.', { onInterrupted: () => (called = true) });
      expect(called).toBe(false);
      expect(result.heard?.cutAtMs).toBeNull();
      expect(result.heard?.playedMs).toBeCloseTo(result.durationMs, 6);
      expect(result.heard?.text).toBe('One two three. Four five.');
      expect(result.heard?.words.map((word) => `${word.word}:${word.heard}`)).toEqual(['One:full', 'two:full', 'three:full', 'Four:full', 'five:full']);
      // A second stream on the same device, cut short, counts only its own frames (its clock starts at its sink's open).
      const second = await engine.play('Six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty and some more words here. Thirteen fourteen.', {
        onProgress: ({ done }) => {
          if (done === 1) engine.interrupt(engine.activeStreams()[0] ?? '');
        },
      });
      expect(second.interrupted).toBe(true);
      expect(second.heard?.playedMs).toBeLessThan(second.durationMs);
      expect(second.heard?.words.at(-1)?.heard).toBe('none');
    } finally {
      await engine.close();
      output.close();
    }
  });

  it('two streams mixed, one cut: its heard boundary is within one period + the fade of its own cut (the other level subtracted)', async () => {
    const registrar = new AudioRegistrar();
    // Voices hold 10 s: each utterance is queued whole, so neither voice underruns (its clock is the capture's).
    const output = new WatchedOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, bufferFrames: RATE_HZ * 10, capture: true, captureFrames: RATE_HZ * 30 });
    const BED = 0.125;
    const bed = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:bed'), output, backend: new ConstantLevelBackend({ level: BED, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 6 }) });
    // Gaps of 1 ms between words: wherever the cut falls, the capture shows it (a cut in a gap is off by at most 1 ms).
    const speaker = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:speaker'), output, backend: new ToneWordsBackend({ sampleRateHz: RATE_HZ, toneFrames: TONE_FRAMES, gapFrames: RATE_HZ / 1000, level: 0.5 }) });
    try {
      // Aim 20 ms into the second word of the second sentence (its layout from stream(): deterministic).
      const layout: PlayedChunk[] = [];
      for await (const chunk of speaker.stream(TEXT)) layout.push({ startFrame: Math.round((chunk.startMs * RATE_HZ) / 1000), frames: chunk.pcm.length, text: chunk.kind === 'speech' ? chunk.text : undefined, wordTimings: chunk.metadata.wordTimings });
      const target = layout.filter((chunk) => chunk.text !== undefined)[1] as PlayedChunk;
      const aimFrames = target.startFrame + Math.round((((target.wordTimings?.[1]?.startMs ?? 0) + 20) * RATE_HZ) / 1000);
      const bedPlay = bed.play('a constant bed', { policy: 'mix' });
      await waitUntil(() => output.voices[0] !== undefined && output.startedAt.has(output.voices[0].id), 'the bed to start');
      const playing = speaker.play(TEXT, { policy: 'mix' });
      await waitUntil(() => output.voices[1] !== undefined && output.startedAt.has(output.voices[1].id), 'the speech to start');
      const [bedVoice, speechVoice] = output.voices as [AudioVoice, AudioVoice];
      // Counted on the speech's own voice (the bed plays on other frames of the same periods).
      await waitUntil(() => speechVoice.stats().framesPlayed >= aimFrames, 'the aimed frame to be played');
      expect(speaker.interrupt(speaker.activeStreams()[0] ?? '').allowed).toBe(true);
      const result = await playing;
      expect(result.interrupted).toBe(true);
      await waitUntil(() => speechVoice.stats().state === 'closed' || speechVoice.stats().state === 'interrupted', 'the speech voice to fade out');
      const afterFade = position(output) + PERIOD_FRAMES * 3;
      await waitUntil(() => position(output) > afterFade, 'periods after the fade');
      const bedTrack = { start: output.startedAt.get(bedVoice.id) ?? -1, frames: bedVoice.framesWritten, level: BED };
      // Still playing under the speech's cut: the bed is known exactly over the whole window.
      expect(bedTrack.start + bedTrack.frames).toBeGreaterThan(afterFade);
      const captured = capturedSoFar(output).subarray(0, afterFade);
      const speech = Float32Array.from(contribution(captured, [bedTrack]));
      const { first, last } = soundSpan(speech);
      expect(first).toBe(output.startedAt.get(speechVoice.id));
      expect(speechVoice.stats().underruns).toBe(0);
      const trueCutMs = ((last + 1 - first) / RATE_HZ) * 1000;
      const toleranceMs = ((PERIOD_FRAMES + output.fadeFrames) / RATE_HZ) * 1000;
      const truth = toneRunsMs(speech, first, []);
      expect(truth.length).toBeGreaterThanOrEqual(5);
      const heard = result.heard;
      expect(heard?.cutAtMs).not.toBeNull();
      if (!heard) return;
      expect(misplacedWords(heard.words.map((word) => word.heard), truth, trueCutMs, toleranceMs)).toEqual([]);
      expect(Math.abs(heard.playedMs - trueCutMs)).toBeLessThanOrEqual(toleranceMs);
      console.log(`heard with a mixed bed: playedMs ${heard.playedMs.toFixed(2)}, true cut ${trueCutMs.toFixed(2)} ms (tolerance ${toleranceMs.toFixed(2)} ms)`);
      // The bed is not part of the speech's record and played on: its level is subtracted above;
      // planted, without the subtraction the "cut" is where the bed is (the check would fail).
      const unsubtracted = soundSpan(captured);
      expect(Math.abs(heard.playedMs - ((unsubtracted.last + 1 - first) / RATE_HZ) * 1000)).toBeGreaterThan(toleranceMs);
      expect(bed.interrupt(bed.activeStreams()[0] ?? '').allowed).toBe(true);
      expect((await bedPlay).interrupted).toBe(true);
    } finally {
      await Promise.all([speaker.close(), bed.close()]);
      output.close();
    }
  });
});
