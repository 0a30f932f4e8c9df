/**
 * Scene cost: a 60 s scene (4 layers: dialogue with 20 turns, looped music, rain, wind; plus 10
 * effects) rendered offline, against synthesis alone in the same run:
 * - synthesis alone: the 20 turns through `engine.speak` (the baseline);
 * - full render: `scene.render(engine)` (synthesis + mixing), as × real time;
 * - mixer: the same scene with the dialogue already synthesized (a RenderedConversation), so only
 *   sources, loops, ducking, panning and the sum are timed: ms of work per second of audio.
 * Each is run `RUNS` times; p50/p99 (p99 of a few runs is their worst).
 *
 *   npm run bench:scene        (or: node --import tsx bench/scene.bench.ts [runs])
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAudioFile } from '../src/audio/file-writer.js';
import type { RenderedConversation } from '../src/conversation/types.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { Scene } from '../src/scene/scene.js';

const RUNS = Number(process.argv[2] ?? 3);
const RATE = 48_000;
const SCENE_MS = 60_000;
const LINES = Array.from({ length: 20 }, (_, index) => `Line ${index + 1}: we cross the river at dawn.`);

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

async function timed(runs: number, task: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await task();
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

function buildScene(music: string, dialogue: { conversation: RenderedConversation } | { turns: Array<{ speaker: string; text: string; atMs: number }> }): Scene {
  const scene = new Scene({ seed: 1, durationMs: SCENE_MS, sampleRate: RATE });
  scene.addMusic(music, { loop: true, volume: 0.5, fadeInMs: 2000, fadeOutMs: 3000, duckFor: ['dialogue'], duckAmount: -12 });
  scene.addAmbiance('rain', { volume: 0.4 });
  scene.addAmbiance('wind', { volume: 0.3, position: { x: -0.5, y: 0, z: 1 } });
  scene.addLayer({ kind: 'dialogue', ...dialogue, positions: { a: { x: -0.5, y: 0, z: 0 }, b: { x: 0.5, y: 0, z: 0 } } });
  for (let effect = 0; effect < 10; effect++) scene.addEffect(1500 + effect * 5800, (['beep', 'chime', 'click', 'whoosh', 'knock'] as const)[effect % 5]!);
  return scene;
}

const dir = mkdtempSync(join(tmpdir(), 'scene-bench-'));
const engine = new VoiceEngine({ sampleRateHz: RATE });
try {
  const music = join(dir, 'music.wav');
  const tone = new Float32Array(RATE * 4);
  for (let index = 0; index < tone.length; index++) tone[index] = 0.3 * Math.sin((2 * Math.PI * 220 * index) / RATE);
  await writeAudioFile(music, tone, { sampleRateHz: RATE, channels: 1 });
  const turns = LINES.map((text, index) => ({ speaker: index % 2 === 0 ? 'a' : 'b', text, atMs: 500 + index * 2900 }));

  // Warm-up: the backend loads once.
  await engine.speak('Warm up.', { sampleRateHz: RATE });
  let conversation: RenderedConversation | undefined;
  const synthesis = await timed(RUNS, async () => {
    const rendered = [];
    for (const [index, turn] of turns.entries()) {
      const result = await engine.speak(turn.text, { sampleRateHz: RATE });
      rendered.push({ index, speaker: turn.speaker, voice: '', startMs: turn.atMs, endMs: turn.atMs + result.durationMs, pcm: result.audio, words: [] });
    }
    conversation = { sampleRate: RATE, durationMs: rendered.at(-1)!.endMs, turns: rendered };
  });
  const full = await timed(RUNS, () => buildScene(music, { turns }).render(engine));
  const mixer = await timed(RUNS, () => buildScene(music, { conversation: conversation! }).render(engine));

  const seconds = SCENE_MS / 1000;
  const speechSeconds = conversation!.turns.reduce((sum, turn) => sum + turn.pcm.length / RATE, 0);
  console.log(`scene: ${seconds} s, 4 layers, 20 turns (${speechSeconds.toFixed(1)} s of speech), 10 effects, ${RATE} Hz stereo; ${RUNS} runs each`);
  console.log(`synthesis alone (20 turns):   p50 ${synthesis.p50.toFixed(0)} ms  p99 ${synthesis.p99.toFixed(0)} ms`);
  console.log(`full render (synth + mix):    p50 ${full.p50.toFixed(0)} ms  p99 ${full.p99.toFixed(0)} ms  = ${(seconds * 1000 / full.p50).toFixed(1)}× real time`);
  console.log(`mixer only (pre-synthesized): p50 ${mixer.p50.toFixed(0)} ms  p99 ${mixer.p99.toFixed(0)} ms  = ${(mixer.p50 / seconds).toFixed(1)} ms per second of audio, ${(seconds * 1000 / mixer.p50).toFixed(1)}× real time`);
  console.log(`mixing share of the full render: ${((100 * mixer.p50) / full.p50).toFixed(0)} %; render / synthesis alone: ${(full.p50 / synthesis.p50).toFixed(2)}`);
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
