/**
 * `engine.forActor(handle)`: an engine for another actor of the same registrar that shares the
 * host engine's backend and device, and whose close() ends only its own streams.
 */
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';

describe('VoiceEngine.forActor', () => {
  it("speaks as the given actor on the host's device and backend; closing it leaves both open", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', capture: true });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const host = new VoiceEngine({ registrar, backend, output });
    const agent = registrar.registerActor('agent:guest');
    const guest = await host.forActor(agent, { policy: 'mix' });
    try {
      expect(guest.actor).toBe(agent);
      const played = await guest.play('One. Two.');
      expect(registrar.getState(played.streamId)?.owner).toBe('agent:guest');
      expect(backend.yieldedChunks).toBe(2);
      await guest.close();
      // The host's backend and device still serve.
      const after = await host.play('Three.');
      expect(after.durationMs).toBeGreaterThan(0);
      expect(backend.yieldedChunks).toBe(3);
    } finally {
      await host.close();
      output.close();
    }
  });

  it("refuses another registrar's handle", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const host = new VoiceEngine({ registrar, output });
    try {
      const foreign = new AudioRegistrar().registerActor('agent:intruder');
      await expect(host.forActor(foreign)).rejects.toThrow(InputError);
      await expect(host.forActor(foreign)).rejects.toThrow(/another registrar/);
    } finally {
      await host.close();
      output.close();
    }
  });
});
