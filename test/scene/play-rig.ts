/**
 * Scene play tests' rig: a stereo null-backend device with capture and an engine on it, both
 * closed after each test of the file that made them.
 */
import { afterEach } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine, type VoiceEngineOptions } from '../../src/index.js';

/** Registers the after-each cleanup and returns `setup(engineOptions)` → `{ engine, output }`. */
export function stereoPlayRig(sampleRateHz: number): (engineOptions?: Omit<VoiceEngineOptions, 'output'>) => { engine: VoiceEngine; output: AudioOutput } {
  const opened: Array<{ engine: VoiceEngine; output: AudioOutput }> = [];
  afterEach(async () => {
    for (const { engine, output } of opened.splice(0)) {
      await engine.close();
      output.close();
    }
  });
  return (engineOptions = {}) => {
    const output = new AudioOutput({ backend: 'null', capture: true, sampleRateHz, channels: 2 });
    const engine = new VoiceEngine({ ...engineOptions, output });
    opened.push({ engine, output });
    return { engine, output };
  };
}
