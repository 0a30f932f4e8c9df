/**
 * A barge-in under a user's accessibility override: the agent's barge-in interrupt is refused
 * (both turns play on, mixed), and a later interrupt of that same turn by the user herself must
 * still end the conversation: the refused barge-in may not make the user's decision look like
 * the conversation's own cut. Counted and ordered on the null device, never timed.
 */
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { AudioRegistrar, VoiceEngine } from '../../src/index.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { waitUntil } from '../helpers/waiting.js';

describe('a refused barge-in under an override', () => {
  it("leaves the user's own interrupt of the turn able to end the conversation", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22_050, channels: 1 });
    const user = registrar.registerActor('user:alice', { sessions: ['den'] });
    const engine = new VoiceEngine({ registrar, actor: 'agent:narrator', sessionId: 'den', output });
    try {
      registrar.request({ action: 'enable_override', actor: user, metadata: { scope: 'session', scopeId: 'den' } });
      const conversation = new Conversation([
        { speaker: 'Alice', text: 'This is a long turn that the next speaker tries to cut in on, and the user later stops it herself, which she may do at any time.' },
        { speaker: 'Bob', text: 'Let me cut in here, although the override will not let me.', bargeIn: true, overlapMs: 60_000 },
        { speaker: 'Carol', text: 'Never heard.' },
      ]);
      const playing = engine.play(conversation);
      let aliceStream: string | undefined;
      // The barge-in was tried and refused: the turn before is still playing.
      await waitUntil(() => {
        const refused = engine.registrar.attestations(1000).find((record) => record.action === 'interrupt' && record.decision === 'denied' && record.reason === 'accessibility_override');
        aliceStream = refused?.target ?? undefined;
        return aliceStream !== undefined;
      }, 'the barge-in to be refused');
      expect(registrar.getState(aliceStream as string)?.state).toBe('playing');
      expect(registrar.request({ action: 'interrupt', actor: user, target: aliceStream as string, reason: 'enough' }).allowed).toBe(true);
      const result = await playing;
      expect(result.endedBy).toMatchObject({ turn: 0, action: 'interrupt', actor: 'user:alice', reason: 'enough' });
      expect(result.skippedTurns).toBe(1);
    } finally {
      await engine.close();
      output.close();
    }
  }, 120_000);
});
