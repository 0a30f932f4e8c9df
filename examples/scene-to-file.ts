/**
 * A scene rendered to a file: music that ducks under the dialogue, rain and a café behind it, two
 * speakers placed left and right, a knock at the door and a chime, all sample-accurate. The music
 * is a short loop this example writes itself (any WAV, FLAC, MP3 or Opus file works the same).
 *
 *   npx tsx examples/scene-to-file.ts [out.wav]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scene, VoiceEngine, writeAudioFile } from '../src/index.js';

const out = process.argv[2] ?? 'scene.wav';
const RATE = 48_000;

/** Two seconds of a soft arpeggio (A minor), to loop under the scene. */
function arpeggio(): Float32Array {
  const notesHz = [220, 261.63, 329.63, 440, 329.63, 261.63, 220, 196];
  const noteFrames = RATE / 4;
  const pcm = new Float32Array(notesHz.length * noteFrames);
  notesHz.forEach((frequency, note) => {
    for (let index = 0; index < noteFrames; index++) {
      const envelope = Math.min(1, index / 480) * Math.exp(-index / (noteFrames / 2));
      pcm[note * noteFrames + index] = 0.3 * envelope * (Math.sin((2 * Math.PI * frequency * index) / RATE) + 0.3 * Math.sin((4 * Math.PI * frequency * index) / RATE));
    }
  });
  return pcm;
}

const dir = mkdtempSync(join(tmpdir(), 'scene-example-'));
const engine = new VoiceEngine();
try {
  const music = join(dir, 'arpeggio.wav');
  await writeAudioFile(music, arpeggio(), { sampleRateHz: RATE, channels: 1 });

  const scene = new Scene({ seed: 42, durationMs: 9000 });
  scene.addMusic(music, { loop: true, volume: 0.6, fadeInMs: 1000, fadeOutMs: 1500, duckFor: ['dialogue'], duckAmount: '-12dB' });
  scene.addAmbiance('rain', { volume: 0.5 });
  scene.addAmbiance('cafe', { volume: 0.6, position: { x: 0.3, y: 0, z: 2 } });
  scene.addLayer({
    kind: 'dialogue',
    startMs: 1500,
    positions: { alice: { x: -0.6, y: 0, z: 0 }, bob: { x: 0.6, y: 0, z: 0 } },
    turns: [
      { speaker: 'alice', text: 'Did you hear that?' },
      { speaker: 'bob', text: 'Someone is at the door.' },
    ],
  });
  scene.addEffect(4200, 'knock', { count: 3, position: { x: 0.9, y: 0, z: 1 } });
  scene.addEffect(6500, 'chime');

  const { file, scene: rendered } = await scene.renderToFile(engine, out);
  console.log(`wrote ${file.path}: ${(rendered.durationMs / 1000).toFixed(1)} s stereo at ${rendered.sampleRate} Hz`);
  for (const layer of rendered.layers) console.log(`  ${layer.kind.padEnd(9)} ${layer.name.padEnd(12)} ${layer.startMs.toFixed(0).padStart(5)}–${layer.endMs.toFixed(0)} ms`);
  for (const turn of rendered.turns) console.log(`  ${turn.speaker} speaks ${turn.startMs.toFixed(0)}–${turn.endMs.toFixed(0)} ms`);
  for (const effect of rendered.effects) console.log(`  effect at ${effect.atMs} ms = frame ${effect.frame}`);
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
