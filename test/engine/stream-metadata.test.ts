import { afterAll, describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';

const engine = new VoiceEngine();
afterAll(() => engine.close());

describe('speak options streamMetadata and onStreamStart', () => {
  it('records the extra fields in the start attestation and tells the stream id as the start is allowed', async () => {
    const told: string[] = [];
    const result = await engine.speak('Tagged.', { streamMetadata: { conversationId: 'c-1', turn: 2, live: false }, onStreamStart: (id) => told.push(id) });
    expect(told).toEqual([result.streamId]);
    const start = result.attestations[0];
    expect(start?.action).toBe('start');
    expect(start?.parameters.metadata).toMatchObject({ conversationId: 'c-1', turn: 2, live: false });
  });

  it('refuses fields the registrar reads itself, bad names and values, naming the field', async () => {
    for (const [metadata, message] of [
      [{ priority: 'system' }, /options\.streamMetadata: at most 16 fields, none of sessionId, userId, priority/],
      [{ sessionId: 'other' }, /options\.streamMetadata: .*none of sessionId/],
      [{ 'bad name': 'x' }, /options\.streamMetadata\.bad name: Invalid key/],
      [{ nested: { a: 1 } }, /options\.streamMetadata\.nested/],
    ] as const) {
      const error = await engine.speak('No.', { streamMetadata: metadata as never }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(message);
    }
    // Nothing was started for the refused calls: the last start is still the one above (or none).
    expect(engine.registrar.listStates().every((stream) => stream.state === 'stopped')).toBe(true);
  });

  it('a throwing onStreamStart does not change the outcome', async () => {
    const result = await engine.speak('Still fine.', { onStreamStart: () => { throw new Error('listener bug'); } });
    expect(result.audio.length).toBeGreaterThan(0);
  });
});
