// The engine's parts split out of voice-engine.ts (the running streams that obey decisions, halts
// and close; a play's device feed; the backends; the validation order) are frozen like VoiceEngine
// itself (docs/REGISTRAR_ARCHITECTURE.md): a swapped prototype method would reach every engine in
// the process, e.g. a no-op `haltAll` would let every stream() speak on after a halt. The check is
// shown to see an unfrozen class (planted), and the halt to end a stream after a refused swap.
import { describe, expect, it } from 'vitest';
import { DevicePlayback } from '../../src/engine/device-playback.js';
import { EngineBackends } from '../../src/engine/engine-backends.js';
import { InCallOrder } from '../../src/engine/input-validation.js';
import { RunningStreams } from '../../src/engine/running-streams.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { constantLevel } from '../helpers/null-device-host.js';

const opened = closedAfterEach();

/** Whether swapping `method` of `prototype` for another function is refused (a TypeError in strict code) and leaves it as it was. */
function swapRefused(prototype: object, method: string): boolean {
  const members = prototype as Record<string, unknown>;
  const before = members[method];
  try {
    members[method] = () => undefined;
  } catch (error) {
    return error instanceof TypeError && members[method] === before;
  }
  members[method] = before;
  return false;
}

const PARTS = [
  ['RunningStreams', RunningStreams, ['obey', 'haltAll', 'endAll', 'add', 'delete']],
  ['DevicePlayback', DevicePlayback, ['hooks', 'write', 'holdsAudio']],
  ['EngineBackends', EngineBackends, ['main', 'forName', 'closeCreated']],
  ['InCallOrder', InCallOrder, ['settle']],
] as const;

describe("the engine's parts cannot be patched", () => {
  it.each(PARTS)('%s: its prototype methods cannot be swapped and its constructor is frozen', (name, part, methods) => {
    for (const method of methods) expect(swapRefused(part.prototype, method), `${name}.${method}`).toBe(true);
    expect(Object.isFrozen(part.prototype) && Object.isFrozen(part)).toBe(true);
  });

  it('planted: the check sees a class left unfrozen (its method is swapped)', () => {
    class Unfrozen {
      haltAll(): void {}
    }
    expect(swapRefused(Unfrozen.prototype, 'haltAll')).toBe(false);
    expect(Object.isFrozen(Unfrozen.prototype)).toBe(false);
  });

  it('a swapped RunningStreams.haltAll is refused, so a halt still ends a running stream() (fail-closed)', async () => {
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, actor: 'agent:narrator', backend: constantLevel() });
    opened.push(engine);
    registrar.registerActor('user:alice', { sessions: ['den'] });
    registrar.registerActor('user:bob', { sessions: ['den'] });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    const iterator = engine.stream('One sentence. Another sentence. A third one. And a fourth.');
    const members = RunningStreams.prototype as unknown as Record<string, unknown>;
    const haltAll = members.haltAll;
    try {
      expect((await iterator.next()).done).toBe(false);
      try {
        members.haltAll = () => undefined;
      } catch {
        // Refused: the prototype is frozen.
      }
      // bob replacing alice's override would end it without disable_override: HALT, fail-closed.
      registrar.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
      expect(registrar.halted).toBe(true);
      await expect(iterator.next()).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
      expect(engine.activeStreams()).toEqual([]);
    } finally {
      if (members.haltAll !== haltAll) members.haltAll = haltAll;
      await iterator.return(undefined).catch(() => undefined);
    }
  });
});
