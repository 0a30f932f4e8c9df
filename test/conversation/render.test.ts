/**
 * Conversations rendered offline with the real espeak-ng backend, asserted on the PCM: speakers
 * differ in pitch, turns sit where the timeline says (onsets, gaps, overlaps within ±10 ms),
 * barge-ins cut the turn before, an override's pause amplification stretches the gaps, and the
 * subtitles carry the timeline's times.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AudioRegistrar, VoiceEngine } from '../../src/index.js';
import { Conversation } from '../../src/conversation/conversation.js';
import type { TimelineEntry } from '../../src/conversation/timeline.js';
import { locateClipMs, medianPitchHz, speechRuns } from '../helpers/speech-measures.js';

const engine = new VoiceEngine();
afterAll(() => engine.close());

/** Pitch ratio (higher / lower) two speakers must keep turn by turn to count as distinguishable. */
const PITCH_MARGIN = 1.3;
const TOLERANCE_MS = 10;
/** Where speech starts: 1 ms frames 40 dB under the loudest (as test/helpers/pause-gaps.ts meters pauses). */
const ONSET_DB = -40;

/** For every pair of turns by different speakers: the median-pitch ratio measured on each turn's audio. */
function speakerPitchRatios(audio: Float32Array, sampleRateHz: number, timeline: readonly TimelineEntry[]): number[] {
  const pitch = timeline.map((turn) => medianPitchHz(audio.subarray(Math.round((turn.startMs / 1000) * sampleRateHz), Math.round((turn.endMs / 1000) * sampleRateHz)), sampleRateHz));
  const ratios: number[] = [];
  for (let a = 0; a < timeline.length; a++) {
    for (let b = a + 1; b < timeline.length; b++) {
      if (timeline[a]?.speaker === timeline[b]?.speaker) continue;
      const [low, high] = [pitch[a] as number, pitch[b] as number].sort((x, y) => x - y) as [number, number];
      ratios.push(high / low);
    }
  }
  return ratios;
}

/** Turn onsets measured in the PCM against the timeline: the largest difference (ms). */
function worstOnsetError(audio: Float32Array, sampleRateHz: number, timeline: readonly TimelineEntry[]): number {
  const runs = speechRuns(audio, sampleRateHz, 150, ONSET_DB);
  return Math.max(
    ...timeline.map((turn) => {
      const run = runs.find((candidate) => candidate.offsetMs > turn.startMs - 50);
      return run ? Math.abs(run.onsetMs - turn.startMs) : Infinity;
    }),
  );
}

const dialogue = () =>
  new Conversation([
    { speaker: 'Alice', text: 'Hello Bob, are you ready?' },
    { speaker: 'Bob', text: 'I am ready.', gapMs: 400 },
    { speaker: 'Alice', text: 'Okay, we go now.', gapMs: 700 },
    { speaker: 'Bob', text: 'All right.' },
  ]);

describe('engine.speak(conversation)', () => {
  it('renders each turn as its own stream, mixed down to one mono result with a timeline', async () => {
    const conversation = dialogue();
    const result = await engine.speak(conversation);
    expect(result.channels).toBe(1);
    expect(result.conversationId).toBe(conversation.id);
    expect(new Set(result.streamIds).size).toBe(4);
    expect(result.audio.length).toBe(Math.round((result.durationMs / 1000) * result.sampleRateHz));
    const timeline = conversation.timeline();
    expect(timeline.map((turn) => turn.speaker)).toEqual(['Alice', 'Bob', 'Alice', 'Bob']);
    expect(timeline[0]?.words.map((word) => word.word)).toEqual(['Hello', 'Bob', 'are', 'you', 'ready']);
    for (const turn of timeline) for (const word of turn.words) expect(word.startMs).toBeGreaterThanOrEqual(turn.startMs - 1);
    // Every turn's stream carries the conversation id, its turn and speaker in its start metadata.
    const starts = engine.registrar.attestations(200).filter((record) => record.action === 'start' && result.streamIds.includes(record.target ?? ''));
    expect(starts.map((record) => (record.parameters.metadata as Record<string, unknown>).conversationTurn)).toEqual([0, 1, 2, 3]);
    expect(starts.every((record) => (record.parameters.metadata as Record<string, unknown>).conversationId === conversation.id)).toBe(true);
  });

  it('two speakers are distinguishable by pitch on every pair of turns (default cast)', async () => {
    const conversation = dialogue();
    const { audio, sampleRateHz } = await engine.speak(conversation);
    const ratios = speakerPitchRatios(audio, sampleRateHz, conversation.timeline());
    expect(ratios.length).toBe(4);
    for (const ratio of ratios) expect(ratio).toBeGreaterThan(PITCH_MARGIN);
  });

  it('a one-voice backend still gets distinct speakers (pitch and rate defaults)', async () => {
    const conversation = new Conversation([{ speaker: 'A', text: 'Hello there, how are you?' }, { speaker: 'B', text: 'I am fine, thank you.' }], { defaultVoices: [] });
    const { audio, sampleRateHz } = await engine.speak(conversation);
    for (const ratio of speakerPitchRatios(audio, sampleRateHz, conversation.timeline())) expect(ratio).toBeGreaterThan(PITCH_MARGIN);
  });

  it('negative: two speakers cast to one voice fail the distinguishability check', async () => {
    const conversation = new Conversation(dialogue().turns, { cast: { alice: { voice: 'en-us' }, bob: { voice: 'en-us' } } });
    const { audio, sampleRateHz } = await engine.speak(conversation);
    const ratios = speakerPitchRatios(audio, sampleRateHz, conversation.timeline());
    expect(ratios.some((ratio) => ratio <= PITCH_MARGIN)).toBe(true);
  });

  it('per-speaker prosody and stage-direction emotions reach the audio; the cast backend and the asked rate are used', async () => {
    const text = 'Well, that went rather nicely for everyone.';
    const conversation = Conversation.fromScript(`Alice: ${text}\nAlice: (laughs) ${text}\nBob: ${text}`, { cast: { bob: { backend: 'espeak', voice: 'en-us', rate: 0.7 } } });
    const result = await engine.speak(conversation, { sampleRateHz: 16_000 });
    expect(result.sampleRateHz).toBe(16_000);
    const [plain, laughing, slow] = result.rendered.turns.map((turn) => turn.pcm.length) as [number, number, number];
    // joy speaks 10 % faster; Bob's cast rate 0.7 is slower still than Alice's plain turn.
    expect(laughing).toBeLessThan(plain * 0.97);
    expect(slow).toBeGreaterThan(plain * 1.2);
    const starts = engine.registrar.attestations(200).filter((record) => record.action === 'start' && result.streamIds.includes(record.target ?? ''));
    expect(starts).toHaveLength(3);
  });

  it('gaps: turn onsets and the silences between turns match the timeline within ±10 ms', async () => {
    const conversation = dialogue();
    const { audio, sampleRateHz } = await engine.speak(conversation);
    const timeline = conversation.timeline();
    expect(worstOnsetError(audio, sampleRateHz, timeline)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(timeline[1]!.startMs - timeline[0]!.endMs).toBeCloseTo(400, 0);
    expect(timeline[2]!.startMs - timeline[1]!.endMs).toBeCloseTo(700, 0);
    expect(timeline[3]!.startMs - timeline[2]!.endMs).toBeCloseTo(250, 0);
    const runs = speechRuns(audio, sampleRateHz, 150, ONSET_DB);
    for (let turn = 1; turn < timeline.length; turn++) {
      const before = runs.filter((run) => run.offsetMs <= timeline[turn]!.startMs + TOLERANCE_MS).at(-1)!;
      const after = runs.find((run) => run.onsetMs >= timeline[turn]!.startMs - TOLERANCE_MS)!;
      expect(Math.abs(after.onsetMs - before.offsetMs - (timeline[turn]!.startMs - timeline[turn - 1]!.endMs))).toBeLessThanOrEqual(TOLERANCE_MS);
    }
  });

  it('negative: a turn placed 30 ms off its timeline start is caught by the onset check', async () => {
    const conversation = dialogue();
    const { audio, sampleRateHz } = await engine.speak(conversation);
    const timeline = conversation.timeline();
    const shifted = new Float32Array(audio.length);
    const start = Math.round((timeline[2]!.startMs / 1000) * sampleRateHz);
    const shift = Math.round(0.03 * sampleRateHz);
    shifted.set(audio.subarray(0, start));
    shifted.set(audio.subarray(start, audio.length - shift), start + shift);
    expect(worstOnsetError(shifted, sampleRateHz, timeline)).toBeGreaterThan(TOLERANCE_MS);
  });

  it('overlaps and barge-ins: the later turn is found in the mix where the timeline puts it; a barge-in cuts the turn before', async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'Hello Bob, this is a rather long sentence for you.' },
      { speaker: 'Bob', text: 'Indeed it is.', overlapMs: 600 },
      { speaker: 'Alice', text: 'And now I will keep talking for quite a while longer.', gapMs: 300 },
      { speaker: 'Bob', text: 'Enough!', bargeIn: true, overlapMs: 1000 },
    ]);
    const { audio, sampleRateHz, rendered } = await engine.speak(conversation);
    const timeline = conversation.timeline();
    expect(timeline[1]!.startMs).toBeCloseTo(timeline[0]!.endMs - 600, 0);
    for (const turn of rendered.turns) expect(Math.abs(locateClipMs(audio, turn.pcm, sampleRateHz, turn.startMs) - turn.startMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    // The barge-in: Alice's third turn ends (faded) 10 ms after Bob cuts in; after that only Bob is heard.
    expect(timeline[2]!.endMs).toBeCloseTo(timeline[3]!.startMs + 10, 0);
    const bobClip = rendered.turns[3]!.pcm;
    const from = Math.round((timeline[3]!.startMs / 1000) * sampleRateHz);
    let residual = 0;
    for (let i = Math.round(0.011 * sampleRateHz); i < bobClip.length; i++) residual = Math.max(residual, Math.abs((audio[from + i] as number) - (bobClip[i] as number)));
    expect(residual).toBeLessThan(1e-6);
    expect(timeline[2]!.words.every((word) => word.startMs < timeline[2]!.endMs)).toBe(true);
  });

  it('an allowed interrupt of a turn while it renders ends the render there: later turns are not synthesized', async () => {
    const conversation = dialogue();
    // The second turn's stream, once it plays, is interrupted (after the listener returns, as any caller would).
    const playing: string[] = [];
    const stopWatching = engine.registrar.onTransition((event) => {
      if (event.stateAfter !== 'playing') return;
      playing.push(event.streamId);
      if (playing.length === 2) queueMicrotask(() => engine.interrupt(event.streamId, { reason: 'test' }));
    });
    try {
      const result = await engine.speak(conversation);
      expect(result.endedBy).toMatchObject({ turn: 1, streamId: playing[1], action: 'interrupt' });
      expect(result.timeline.map((turn) => turn.index)).toEqual([0, 1]);
      expect(result.streamIds).toHaveLength(2);
    } finally {
      stopWatching();
    }
  });

  it("an accessibility override's pause amplification stretches the gaps between turns (and its rate slows every turn)", async () => {
    const registrar = new AudioRegistrar();
    const user = registrar.registerActor('user:alice', { sessions: ['den'] });
    const agentEngine = new VoiceEngine({ registrar, actor: 'agent:narrator', sessionId: 'den' });
    try {
      const plain = await agentEngine.speak(dialogue());
      registrar.request({ action: 'enable_override', actor: user, metadata: { scope: 'session', scopeId: 'den', pauseAmplification: 2, speechRate: 0.8 } });
      const conversation = dialogue();
      const slowed = await agentEngine.speak(conversation);
      const timeline = conversation.timeline();
      expect(timeline[1]!.startMs - timeline[0]!.endMs).toBeCloseTo(800, 0);
      expect(timeline[2]!.startMs - timeline[1]!.endMs).toBeCloseTo(1400, 0);
      expect(worstOnsetError(slowed.audio, slowed.sampleRateHz, timeline)).toBeLessThanOrEqual(TOLERANCE_MS);
      for (const [index, turn] of slowed.rendered.turns.entries()) expect(turn.pcm.length).toBeGreaterThan(plain.rendered.turns[index]!.pcm.length * 1.1);
    } finally {
      await agentEngine.close();
    }
  });
});

/** Cue times of SRT or WebVTT text, parsed on their own (ms). */
function cueTimes(text: string): Array<[number, number]> {
  const stamp = /(\d{2}):(\d{2}):(\d{2})[,.](\d{3}) --> (\d{2}):(\d{2}):(\d{2})[,.](\d{3})/g;
  return [...text.matchAll(stamp)].map((m) => {
    const n = m.slice(1).map(Number);
    return [n[0]! * 3_600_000 + n[1]! * 60_000 + n[2]! * 1000 + n[3]!, n[4]! * 3_600_000 + n[5]! * 60_000 + n[6]! * 1000 + n[7]!];
  });
}

function subtitleMismatches(text: string, timeline: readonly TimelineEntry[]): number {
  const cues = cueTimes(text);
  if (cues.length !== timeline.length) return Infinity;
  return cues.filter(([start, end], index) => Math.abs(start - timeline[index]!.startMs) > 0.5 || Math.abs(end - timeline[index]!.endMs) > 0.5).length;
}

describe('subtitles', () => {
  it('SRT and WebVTT cues carry the timeline times (to the ms) and the speakers; a shifted cue is caught', async () => {
    const conversation = Conversation.fromScript('Alice: Hello there <friend> & co.\n[pause 1.2s]\nBob: Hi.');
    await conversation.render(engine);
    const timeline = conversation.timeline();
    const srt = conversation.toSrt();
    const vtt = conversation.toVtt();
    expect(subtitleMismatches(srt, timeline)).toBe(0);
    expect(subtitleMismatches(vtt, timeline)).toBe(0);
    expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nAlice: Hello there <friend> & co\.\n\n2\n/);
    expect(vtt.startsWith('WEBVTT\n\n1\n00:00:00.000 --> ')).toBe(true);
    expect(vtt).toContain('<v Alice>Hello there &lt;friend&gt; &amp; co.');
    expect(vtt).toContain('<v Bob>Hi.');
    // Negative: a cue 5 ms off is a mismatch.
    const [start] = cueTimes(srt)[1]!;
    const late = srt.replace(/(\n2\n\d{2}:\d{2}:\d{2}),(\d{3})/, (_all, head: string) => `${head},${String((start + 5) % 1000).padStart(3, '0')}`);
    expect(subtitleMismatches(late, timeline)).toBe(1);
  });
});
