// A voice's watch follows the play its permit authorised, never a later play of the same stream.
// Between `spend()` and `streamWatch()` (StreamSink.open allocates the voice's ring there) another
// thread sharing the core may interrupt the stream, stop, restart and play it again: the stream
// word then says `playing` at a newer version. A watch taken from the word's current version would
// follow that new play, and the old sink's voice (whose play was interrupted, allowed) would keep
// sounding until this thread hears the doorbell, however long its event loop is blocked. The
// decisions are made here, in that window, deterministically; frames are counted on the capture.
import { describe, expect, it } from 'vitest';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { Permit } from '../../src/registrar/types.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

/** A native registrar with its agent's stream playing, and the spent permit of that play. */
function spentPlay(): { registrar: AudioRegistrar; agent: ReturnType<AudioRegistrar['registerActor']>; streamId: string; spent: Permit } {
  const registrar = new AudioRegistrar({ core: new NativeCore() });
  opened.push(registrar);
  const agent = registrar.registerActor('agent:assistant');
  const streamId = registrar.request({ action: 'start', actor: agent }).streamId ?? '';
  for (const action of ['compile', 'synthesize'] as const) expect(registrar.request({ action, actor: agent, target: streamId }).allowed).toBe(true);
  const permit = registrar.require(registrar.request({ action: 'play', actor: agent, target: streamId }), { action: 'play' });
  return { registrar, agent, streamId, spent: registrar.spend(permit, { action: 'play' }) };
}

describe('streamWatch binds to the permit\'s play', () => {
  it('a permit whose play was interrupted and replayed before the watch is refused, never a watch of the newer play', () => {
    const { registrar, agent, streamId, spent } = spentPlay();
    // The window of StreamSink.open: an interrupt (allowed), then the stream played again.
    for (const action of ['interrupt', 'stop', 'restart', 'start', 'compile', 'synthesize', 'play'] as const) {
      expect(registrar.request({ action, actor: agent, target: streamId }).allowed, action).toBe(true);
    }
    expect(registrar.getState(streamId)?.state).toBe('playing');
    expect(() => registrar.streamWatch(spent)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REQUIRED', message: expect.stringContaining('superseded') }));
  });

  it('a permit whose play is still the latest decision is watched, and an interrupt after it cuts the voice', async () => {
    const { registrar, agent, streamId, spent } = spentPlay();
    const output = nullDevice(opened, { captureSeconds: 0 });
    const voice = output.openVoice();
    const watch = registrar.streamWatch(spent);
    expect(watch).not.toBeNull();
    expect(voice.watch(watch as NonNullable<typeof watch>)).toBe(true);
    voice.write(new Float32Array(RATE_HZ).fill(0.5));
    output.start();
    await waitUntil(() => voice.stats().state === 'playing', 'the voice to play');
    // No sink listens here: only the watch can cut the voice.
    expect(registrar.request({ action: 'interrupt', actor: agent, target: streamId }).allowed).toBe(true);
    await waitUntil(() => voice.stats().state === 'interrupted', 'the watch to cut the voice');
    voice.close();
  });
});
