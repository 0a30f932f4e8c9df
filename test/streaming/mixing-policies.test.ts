// Scheduling policies heard at the device: engines whose backends "speak" distinct constant levels
// play on one null device with capture (the real addon's mixer, one voice per stream), and each
// capture is compared with an expectation computed independently of the mixer: where each voice
// started (the callback's `started` event), how many frames it was given and its level. `mix` is
// the exact sum; `duck` lowers the lower stream by duckDb with the attack ramp and restores it with
// the release ramp; `preempt` silences the lower stream within one period + fade under an attested
// `system` interrupt; `queue` never overlaps; a denied preemption ducks; an interrupt of one of two
// mixed streams leaves the other sample-exact. Planted violations show that the checks catch them.
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { dbToGain } from '../../src/audio/voice.js';
import type { AudioVoice } from '../../src/audio/voice.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { PlayResult } from '../../src/engine/speech-types.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { SCHEDULE_DEFAULTS } from '../../src/streaming/schedule-policy.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { contribution, duckShape, expectedMix, mismatches, type DuckExpectation, type Track } from '../helpers/mix-checks.js';
import { waitUntil } from '../helpers/waiting.js';
import { WatchedOutput } from '../helpers/watched-output.js';

const RATE_HZ = 24_000;
const PERIOD_FRAMES = 240;
const framesOf = (seconds: number) => Math.round(RATE_HZ * seconds);
const msFrames = (ms: number) => Math.round((ms * RATE_HZ) / 1000);

const opened = closedAfterEach();

/** A null device with capture whose voices hold 10 s: every utterance here is queued whole, so no voice ever underruns. */
function device(): WatchedOutput {
  const output = new WatchedOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, bufferFrames: framesOf(10), capture: true, captureFrames: framesOf(30) });
  opened.push(output);
  return output;
}

/** An engine on `output` whose every utterance is `seconds` of `level`. */
function speaker(registrar: AudioRegistrar, output: WatchedOutput, name: string, level: number, seconds: number, kind: 'agent' | 'system' = 'agent'): VoiceEngine {
  const engine = new VoiceEngine({ registrar, actor: registrar.registerActor(`${kind}:${name}`), output, backend: new ConstantLevelBackend({ level, sampleRateHz: RATE_HZ, framesPerSegment: framesOf(seconds) }) });
  opened.push(engine);
  return engine;
}

/** Waits until `output` has opened `count` voices and each has started; returns the newest. */
async function voiceStarted(output: WatchedOutput, count: number): Promise<AudioVoice> {
  await waitUntil(() => output.voices.length >= count && output.voices.slice(0, count).every((voice) => output.startedAt.has(voice.id)), `voice ${count} to start`);
  return output.voices[count - 1] as AudioVoice;
}

/** A voice as a track of the expected mix: from its `started` frame, `frames` frames at `level`. */
function trackOf(output: WatchedOutput, voice: AudioVoice, level: number, frames = voice.framesWritten): Track {
  return { start: output.startedAt.get(voice.id) ?? -1, frames, level };
}

/** Waits until the device has rendered past `frame` (deadline only). */
async function renderedPast(output: WatchedOutput, frame: number): Promise<void> {
  await waitUntil(() => position(output) > frame, `the device to render past frame ${frame}`);
}

const seqOf = (result: PlayResult, action: string) => result.attestations.find((attestation) => attestation.action === action)?.seq ?? -1;

/** The default duck envelope in frames, for a stream at `full`. */
function defaultDuck(full: number): Pick<DuckExpectation, 'full' | 'ducked' | 'attackFrames' | 'releaseFrames'> {
  return { full, ducked: full * dbToGain(SCHEDULE_DEFAULTS.duckDb), attackFrames: msFrames(SCHEDULE_DEFAULTS.duckAttackMs), releaseFrames: msFrames(SCHEDULE_DEFAULTS.duckReleaseMs) };
}

/**
 * What is wrong with the attested cause of `victim` going silent for `arrival`: exactly one allowed
 * `interrupt` of it, by a `system` actor, with `metadata.preemptFor` naming the arrival, attested
 * before the arrival's `play`.
 */
function preemptionCauseProblems(records: readonly Attestation[], victim: string, arrival: string): string[] {
  const interrupts = records.filter((record) => record.action === 'interrupt' && record.target === victim && record.decision === 'allowed');
  const [interrupt] = interrupts;
  if (interrupts.length !== 1 || !interrupt) return [`${interrupts.length} allowed interrupts of ${victim}, expected 1`];
  const problems: string[] = [];
  if (interrupt.actor?.kind !== 'system') problems.push(`interrupted by ${interrupt.actor?.kind ?? 'nobody'}, not a system actor`);
  if (interrupt.metadata.preemptFor !== arrival) problems.push(`metadata.preemptFor is ${JSON.stringify(interrupt.metadata.preemptFor)}, not ${arrival}`);
  const play = records.find((record) => record.action === 'play' && record.target === arrival && record.decision === 'allowed');
  if (!play || play.seq < interrupt.seq) problems.push(`${arrival} played before its preemption was attested`);
  return problems;
}

/** Levels of the lower (8 s, background) and higher (1 s) streams of the duck and preempt tests. */
const LOW = 0.25;
const HIGH = 0.5;

/**
 * A lower stream (`LOW`, background priority) playing for a few periods on a fresh device, and an
 * engine ready to play a higher one (`HIGH`); `before` runs on the registrar first (e.g. an override).
 */
async function lowerPlaying(options: { sessionId?: string; before?: (registrar: AudioRegistrar) => void } = {}) {
  const registrar = new AudioRegistrar();
  options.before?.(registrar);
  const output = device();
  const lowEngine = speaker(registrar, output, 'music', LOW, 8);
  // The alarm is the runtime's (a system actor): only a system or user play may preempt another actor's stream.
  const highEngine = speaker(registrar, output, 'alarm', HIGH, 1, 'system');
  const low = lowEngine.play('music', { priority: 'background', ...(options.sessionId ? { sessionId: options.sessionId } : {}) });
  const lowVoice = await voiceStarted(output, 1);
  await renderedPast(output, (output.startedAt.get(lowVoice.id) ?? 0) + PERIOD_FRAMES * 4);
  return { registrar, output, lowEngine, highEngine, low, lowVoice, lowId: lowEngine.activeStreams()[0] ?? '' };
}

describe('mix', () => {
  it('three streams mixed: the capture is the exact sum of their inputs; a planted gain or a lost stream is caught', async () => {
    const registrar = new AudioRegistrar();
    const output = device();
    // Powers of two: every sum is exact in float32. Lengths tell the voices apart.
    const streams = [
      { level: 0.25, frames: framesOf(1) },
      { level: 0.125, frames: framesOf(1.25) },
      { level: 0.0625, frames: framesOf(1.5) },
    ];
    const engines = streams.map((stream, index) => speaker(registrar, output, `mixer${index}`, stream.level, stream.frames / RATE_HZ));
    const results = await Promise.all(engines.map((engine) => engine.play('together', { policy: 'mix' })));
    expect(results.every((result) => result.interrupted === undefined)).toBe(true);
    expect(output.voices).toHaveLength(3);
    const tracks = output.voices.map((voice) => {
      const stream = streams.find((candidate) => candidate.frames === voice.framesWritten);
      if (!stream) throw new Error(`voice ${voice.id} holds ${voice.framesWritten} frames: no such stream`);
      return trackOf(output, voice, stream.level);
    });
    const end = Math.max(...tracks.map((track) => track.start + track.frames));
    await renderedPast(output, end + PERIOD_FRAMES);
    const captured = capturedSoFar(output);
    const expected = expectedMix(tracks, captured.length);
    // All three sounded together for a while (else "sum" would be a weak claim).
    const overlap = Math.min(...tracks.map((track) => track.start + track.frames)) - Math.max(...tracks.map((track) => track.start));
    expect(overlap).toBeGreaterThan(PERIOD_FRAMES * 10);
    expect(mismatches(captured, expected)).toEqual({ count: 0, first: -1 });
    expect(output.voices.map((voice) => voice.stats().underruns)).toEqual([0, 0, 0]);

    // Planted: a gain nobody asked for (-12 dB on the first stream for a second of overlap), and a stream lost.
    const ducked = Float32Array.from(captured);
    const [first] = tracks as [Track];
    const from = Math.max(...tracks.map((track) => track.start));
    for (let index = from; index < from + PERIOD_FRAMES * 10; index++) ducked[index] = (ducked[index] ?? 0) - first.level * (1 - dbToGain(-12));
    expect(mismatches(ducked, expected).count).toBe(PERIOD_FRAMES * 10);
    const lost = expectedMix(tracks.slice(1), captured.length);
    expect(mismatches(captured, lost).first).toBe(first.start);
  });
});

describe('duck', () => {
  it('a higher priority arrives: the lower stream drops by duckDb with the attack ramp and is restored with the release ramp after the higher ends', async () => {
    const { registrar, output, lowEngine, highEngine, low, lowVoice } = await lowerPlaying();
    // Default policy: the arrival outranks the lower stream, so it ducks it.
    const high = highEngine.play('the answer');
    const highVoice = await voiceStarted(output, 2);
    await waitUntil(() => highEngine.schedule().active.length === 1 && lowEngine.schedule().active[0]?.gainDb === SCHEDULE_DEFAULTS.duckDb, 'the lower stream ducked');
    expect(highEngine.schedule().active.map((entry) => [entry.priority, entry.policy, entry.gainDb])).toEqual([[5, 'duck', 0]]);
    expect(lowEngine.schedule().active.map((entry) => [entry.priority, entry.gainDb])).toEqual([[1, SCHEDULE_DEFAULTS.duckDb]]);
    const highResult = await high;
    await waitUntil(() => lowEngine.schedule().active[0]?.gainDb === 0, 'the lower stream restored');
    const higher = trackOf(output, highVoice, HIGH);
    const until = higher.start + higher.frames + msFrames(SCHEDULE_DEFAULTS.duckReleaseMs) + PERIOD_FRAMES * 30;
    await renderedPast(output, until);
    const cut = lowEngine.interrupt(lowEngine.activeStreams()[0] ?? '');
    expect(cut.allowed).toBe(true);
    const lowResult = await low;
    // The cause, attested: the higher stream (priority 5) played while the lower one (priority 1) played.
    expect(registrar.getState(highResult.streamId)?.priority).toBe(5);
    expect(registrar.getState(lowResult.streamId)?.priority).toBe(1);
    expect(seqOf(highResult, 'play')).toBeGreaterThan(seqOf(lowResult, 'play'));
    expect(seqOf(highResult, 'stop')).toBeLessThan(cut.attestation.seq);

    const captured = capturedSoFar(output);
    // The higher stream is at unity gain: what remains is the lower stream's own contribution.
    const lower = contribution(captured, [higher]);
    const expectation: DuckExpectation = { ...defaultDuck(LOW), higherStart: higher.start, higherEnd: higher.start + higher.frames, from: output.startedAt.get(lowVoice.id) ?? 0, to: until };
    const shape = duckShape(lower, expectation);
    expect(shape.problems).toEqual([]);
    const duckedLevel = lower[Math.floor((shape.downEnd + shape.upAt) / 2)] ?? 0;
    expect(20 * Math.log10(duckedLevel / LOW)).toBeCloseTo(SCHEDULE_DEFAULTS.duckDb, 4);
    console.log(`duck: lower stream ${LOW} → ${duckedLevel.toFixed(6)} (${(20 * Math.log10(duckedLevel / LOW)).toFixed(3)} dB), attack ${shape.downEnd - shape.downAt + 1} frames from frame ${shape.downAt - 1} (higher stream from ${expectation.higherStart}), release ${shape.upEnd - shape.upAt + 1} frames from ${shape.upAt - 1 - expectation.higherEnd} frames after the higher stream ended`);

    // Planted: the gain command not applied (the lower stream at full level under the higher one), or never released.
    const notApplied = Float64Array.from(lower, (sample, index) => (index >= expectation.from && index < until ? LOW : sample));
    expect(duckShape(notApplied, expectation).problems).toEqual([`never ducked in frames ${expectation.from}–${until}`]);
    const neverReleased = Float64Array.from(lower, (sample, index) => (index >= shape.upAt ? expectation.ducked : sample));
    expect(duckShape(neverReleased, expectation).problems).toEqual([`never restored by frame ${until}`]);
  });
});

describe('preempt', () => {
  it('an attested system interrupt with metadata.preemptFor: the lower stream silent within one period + fade, the higher one heard whole', async () => {
    const { registrar, output, highEngine, low, lowVoice, lowId } = await lowerPlaying();
    let decidedAt = -1;
    const stopWatching = registrar.onTransition((event) => {
      if (event.streamId === lowId && event.action === 'interrupt') decidedAt = position(output);
    });
    const highResult = await highEngine.play('alarm', { priority: 'system', policy: 'preempt' });
    stopWatching();
    const lowResult = await low;
    expect(lowResult.interrupted).toBe(true);
    const [preemption] = registrar.attestationStore.query({ action: 'interrupt', target: lowId });
    expect(preemption).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' }, metadata: { preemptFor: highResult.streamId } });
    expect(lowResult.endedBy?.attestationId).toBe(preemption?.id);
    expect(decidedAt).toBeGreaterThan(0);

    const highVoice = output.voices[1] as AudioVoice;
    const higher = trackOf(output, highVoice, HIGH);
    await renderedPast(output, higher.start + higher.frames + PERIOD_FRAMES);
    const captured = capturedSoFar(output);
    const lower = contribution(captured, [higher]);
    const silentFrom = decidedAt + PERIOD_FRAMES + output.fadeFrames;
    const lowStart = output.startedAt.get(lowVoice.id) ?? 0;
    // Before the decision: the lower stream whole (a constant level: silence its own underruns
    // padded in, on a loaded machine, is the only gap); within one period + fade: at most its level; after: nothing.
    const lowerBefore = expectedMix([{ start: lowStart, frames: decidedAt - lowStart, level: LOW }], decidedAt);
    for (const gap of output.starved.get(lowVoice.id) ?? []) lowerBefore.fill(0, gap.atFrame, gap.atFrame + gap.frames);
    expect(mismatches(lower, lowerBefore, lowStart, decidedAt)).toEqual({ count: 0, first: -1 });
    expect(lower.subarray(decidedAt, silentFrom).every((sample) => sample >= -1e-6 && sample <= LOW + 1e-6)).toBe(true);
    expect(mismatches(lower, new Float64Array(captured.length), silentFrom)).toEqual({ count: 0, first: -1 });
    // The higher stream started after the decision and every frame of it was heard at its level.
    expect(higher.start).toBeGreaterThanOrEqual(decidedAt);
    expect(higher.frames).toBe(framesOf(1));
    expect(lowVoice.stats().framesPlayed).toBeLessThanOrEqual(silentFrom - lowStart);

    // Planted: the lower stream still heard after the decision (a preemption that did nothing) is caught.
    const planted = Float64Array.from(lower, (sample, index) => (index >= silentFrom && index < silentFrom + PERIOD_FRAMES ? LOW : sample));
    expect(mismatches(planted, new Float64Array(captured.length), silentFrom).count).toBe(PERIOD_FRAMES);
    // The cause in the log; planted: a silence without its attestation, or one not naming the arrival, is caught.
    const records = registrar.attestationStore.query({});
    expect(preemptionCauseProblems(records, lowId, highResult.streamId)).toEqual([]);
    expect(preemptionCauseProblems(records.filter((record) => record.action !== 'interrupt'), lowId, highResult.streamId)).toEqual([`0 allowed interrupts of ${lowId}, expected 1`]);
    const unnamed = records.map((record) => (record.action === 'interrupt' ? { ...record, metadata: {} } : record));
    expect(preemptionCauseProblems(unnamed, lowId, highResult.streamId)).toEqual([`metadata.preemptFor is undefined, not ${highResult.streamId}`]);
  });

  it("a stream covered by a user's accessibility override is not preempted nor ducked: the alarm waits, no interrupt asked, the lower stream at 0 dB until she stops it", async () => {
    const actors: { alice?: ReturnType<AudioRegistrar['registerActor']> } = {};
    const { registrar, output, lowEngine, highEngine, low, lowVoice, lowId } = await lowerPlaying({
      sessionId: 'den',
      before: (registrar) => {
        actors.alice = registrar.registerActor('user:alice', { sessions: ['den'] });
        registrar.request({ action: 'enable_override', actor: actors.alice, metadata: { scope: 'session', scopeId: 'den' } });
      },
    });
    const alice = actors.alice;
    if (!alice) throw new Error('no user');
    const high = highEngine.play('alarm', { priority: 'system', policy: 'preempt' });
    await waitUntil(() => highEngine.schedule().queued.length === 1, 'the alarm waiting');
    expect(registrar.attestationStore.query({ action: 'interrupt' })).toEqual([]);
    expect(lowEngine.schedule().active.map((entry) => entry.gainDb)).toEqual([0]);
    await renderedPast(output, position(output) + PERIOD_FRAMES * 4);
    // The lower stream is the user's to stop (the override covers it).
    let stoppedAt = -1;
    const stopWatching = registrar.onTransition((event) => {
      if (event.streamId === lowId && event.action === 'stop') stoppedAt = position(output);
    });
    expect(registrar.request({ action: 'stop', actor: alice, target: lowId }).allowed).toBe(true);
    stopWatching();
    expect((await low).endedBy).toMatchObject({ action: 'stop', actor: 'user:alice' });
    const highResult = await high;
    expect(highResult.interrupted).toBeUndefined();
    const higher = trackOf(output, output.voices[1] as AudioVoice, HIGH);
    await renderedPast(output, higher.start + higher.frames);
    const captured = capturedSoFar(output);
    const lowStart = output.startedAt.get(lowVoice.id) ?? 0;
    // Every frame of the lower stream until her stop at its full level (never ducked), the alarm only after it.
    expect(mismatches(captured, expectedMix([{ start: lowStart, frames: stoppedAt - lowStart, level: LOW }], stoppedAt), lowStart, stoppedAt)).toEqual({ count: 0, first: -1 });
    expect(higher.start).toBeGreaterThanOrEqual(stoppedAt);
    // Planted: a duck of the lower stream in that span is caught.
    const ducked = Float64Array.from(captured, (sample, index) => (index >= lowStart + PERIOD_FRAMES && index < lowStart + 2 * PERIOD_FRAMES ? sample / 4 : sample));
    expect(mismatches(ducked, expectedMix([{ start: lowStart, frames: stoppedAt - lowStart, level: LOW }], stoppedAt), lowStart, stoppedAt).count).toBe(PERIOD_FRAMES);
  });
});

describe('queue', () => {
  it('equal priorities: the second starts only after the first ended; the capture never holds both', async () => {
    const registrar = new AudioRegistrar();
    const output = device();
    const firstEngine = speaker(registrar, output, 'first', 0.25, 0.5);
    const secondEngine = speaker(registrar, output, 'second', 0.125, 0.5);
    const first = firstEngine.play('first');
    await voiceStarted(output, 1);
    const [firstResult, secondResult] = await Promise.all([first, secondEngine.play('second')]);
    expect(seqOf(secondResult, 'play')).toBeGreaterThan(seqOf(firstResult, 'stop'));
    const tracks = [trackOf(output, output.voices[0] as AudioVoice, 0.25), trackOf(output, output.voices[1] as AudioVoice, 0.125)] as [Track, Track];
    await renderedPast(output, tracks[1].start + tracks[1].frames);
    const captured = capturedSoFar(output);
    expect(tracks[1].start).toBeGreaterThanOrEqual(tracks[0].start + tracks[0].frames);
    expect(mismatches(captured, expectedMix(tracks, captured.length))).toEqual({ count: 0, first: -1 });
    const both = (samples: ArrayLike<number>) => Array.from(samples).filter((sample) => Math.abs(sample - 0.375) < 1e-6).length;
    expect(both(captured)).toBe(0);
    // Planted: an overlap of one period is caught.
    const overlapping = Float32Array.from(captured);
    overlapping.fill(0.375, tracks[1].start, tracks[1].start + PERIOD_FRAMES);
    expect(both(overlapping)).toBe(PERIOD_FRAMES);
  });
});

describe('interrupt one of two mixed streams', () => {
  it('the cut stream fades within one period + fade; the other is sample-exact throughout', async () => {
    const registrar = new AudioRegistrar();
    const output = device();
    const CUT = 0.25;
    const KEPT = 0.125;
    const cutEngine = speaker(registrar, output, 'cut', CUT, 4);
    const keptEngine = speaker(registrar, output, 'kept', KEPT, 1.5);
    const cutPlay = cutEngine.play('cut', { policy: 'mix' });
    const cutVoice = await voiceStarted(output, 1);
    const keptPlay = keptEngine.play('kept', { policy: 'mix' });
    const keptVoice = await voiceStarted(output, 2);
    await renderedPast(output, (output.startedAt.get(keptVoice.id) ?? 0) + PERIOD_FRAMES * 10);
    const decidedAt = position(output);
    expect(cutEngine.interrupt(cutEngine.activeStreams()[0] ?? '').allowed).toBe(true);
    expect((await cutPlay).interrupted).toBe(true);
    expect((await keptPlay).interrupted).toBeUndefined();
    const kept = trackOf(output, keptVoice, KEPT);
    await renderedPast(output, kept.start + kept.frames + PERIOD_FRAMES);
    const captured = capturedSoFar(output);
    const cutStart = output.startedAt.get(cutVoice.id) ?? 0;
    const silentFrom = decidedAt + PERIOD_FRAMES + output.fadeFrames;
    expect(kept.start + kept.frames).toBeGreaterThan(silentFrom + PERIOD_FRAMES * 10);
    // Before the decision both whole; after the cut's fade only the kept stream, bit for bit.
    const before = expectedMix([{ start: cutStart, frames: decidedAt - cutStart, level: CUT }, kept], decidedAt);
    expect(mismatches(captured, before, cutStart, decidedAt, 0)).toEqual({ count: 0, first: -1 });
    expect(mismatches(captured, expectedMix([kept], captured.length), silentFrom, captured.length, 0)).toEqual({ count: 0, first: -1 });
    // In the fade the cut stream is between its level and nothing, the kept one whole.
    const fading = contribution(captured, [kept]).subarray(decidedAt, silentFrom);
    expect(fading.every((sample) => sample >= 0 && sample <= CUT)).toBe(true);
    expect(keptVoice.stats().framesPlayed).toBe(framesOf(1.5));
    // Planted: the kept stream faded with the cut one (an interrupt that hit every voice) is caught.
    const everyVoice = Float32Array.from(captured, (sample, index) => (index >= silentFrom && index < kept.start + kept.frames ? 0 : sample));
    expect(mismatches(everyVoice, expectedMix([kept], captured.length), silentFrom, captured.length, 0).first).toBe(silentFrom);
  });
});
