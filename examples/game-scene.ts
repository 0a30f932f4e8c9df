/**
 * A live game-style scene, headless: wind that dips when the guard speaks, footsteps (clicks)
 * and a whoosh, played through the mixer on the null audio backend as ONE registrar stream. Then
 * the player skips the cutscene: an allowed interrupt ends it within a device period.
 *
 *   npx tsx examples/game-scene.ts
 */
import { AudioOutput, Scene, VoiceEngine } from '../src/index.js';

const output = new AudioOutput({ backend: 'null' });
const engine = new VoiceEngine({ output });

function cutscene(): Scene {
  const scene = new Scene({ seed: 1, durationMs: 4000 });
  scene.addAmbiance('wind', { volume: 0.7, fadeInMs: 500, duckFor: ['dialogue'], duckAmount: -10 });
  scene.addDialogue('Halt! Who goes there?', { startMs: 800, position: { x: 0.5, y: 0, z: 1.5 } });
  for (let step = 0; step < 4; step++) scene.addEffect(100 + step * 350, 'click', { volume: 0.5, position: { x: -0.8 + step * 0.2, y: 0, z: 0 } });
  scene.addEffect(3000, 'whoosh');
  return scene;
}

try {
  const played = await engine.play(cutscene());
  console.log(`played ${(played.durationMs / 1000).toFixed(1)} s as stream ${played.streamId}: ${played.attestations.map((a) => `${a.action}(${a.decision})`).join(' → ')}`);

  // The player skips: interrupt the scene's stream once it is playing.
  const skipped = engine.play(cutscene());
  // The scene's play is the one the device's scheduler admitted (the dialogue's speak streams never are).
  const streamId = await new Promise<string>((resolve) => {
    let playingSince = -1;
    const poll = setInterval(() => {
      const id = engine.schedule().active.find((entry) => entry.playing)?.streamId;
      if (id && playingSince < 0) playingSince = output.stats().deviceFrames;
      if (id && output.stats().deviceFrames > playingSince + output.config.sampleRateHz) {
        clearInterval(poll);
        resolve(id);
      }
    }, 10);
  });
  const decision = engine.interrupt(streamId, { reason: 'player skipped the cutscene' });
  const result = await skipped;
  console.log(`skip: interrupt ${decision.allowed ? 'allowed' : 'denied'}; interrupted ${result.interrupted === true}; heard ${((result.heard?.playedMs ?? 0) / 1000).toFixed(1)} s of ${(4).toFixed(1)} s`);
} finally {
  await engine.close();
  output.close();
}
