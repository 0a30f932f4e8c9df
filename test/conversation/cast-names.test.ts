/**
 * Speakers named like Object members (`__proto__`, `constructor`, `toString`) are names like any
 * other wherever a cast reaches: a conversation's cast (API and JSON), a scene's dialogue cast and
 * positions (API and scene file), the `dialogue` command's `--cast`. The script form reads names
 * that start with a letter, so `__proto__: hi` is a script error naming its line. Every check here
 * failed before: zod's record drops a `__proto__` key (its value not even validated), and a plain
 * object answers `constructor` from its prototype.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dialogueCommand } from '../../src/cli/dialogue.js';
import { main } from '../../src/cli/main.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { Scene } from '../../src/scene/scene.js';
import { loadSceneFile } from '../../src/scene/scene-file.js';
import { runCommand } from '../helpers/cli.js';
import { inputFailure } from '../helpers/errors.js';
import { FIXTURE_VOICES, VoiceListBackend } from '../helpers/voice-list-backend.js';

const RATE = 16_000;
const dir = mkdtempSync(join(tmpdir(), 'vs-cast-names-'));
const engines: VoiceEngine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** An engine on a fresh VoiceListBackend (its voices: de_anna, us_ava, us_bea, us_cal, gb_dan). */
function listEngine(): { engine: VoiceEngine; backend: VoiceListBackend } {
  const backend = new VoiceListBackend(FIXTURE_VOICES, { sampleRateHz: RATE, framesPerSegment: RATE / 10 });
  const engine = new VoiceEngine({ backend, sampleRateHz: RATE });
  engines.push(engine);
  return { engine, backend };
}

const MEMBER_NAMES = ['__proto__', 'constructor', 'toString'] as const;
const turns = MEMBER_NAMES.map((speaker) => ({ speaker, text: `I am ${speaker.replace(/_/g, '')}.` }));

describe('a conversation cast keyed by Object member names', () => {
  it('casts __proto__, constructor and toString as written (a JSON cast), and renders with those voices', async () => {
    const cast = JSON.parse('{"__proto__": {"voice": "us_bea"}, "constructor": {"voice": "gb_dan"}, "toString": {"voice": "us_cal", "rate": 1.2}}') as Record<string, { voice: string }>;
    const conversation = new Conversation(turns, { cast });
    expect([...conversation.cast()].map(([speaker, entry]) => [speaker, entry.voice])).toEqual([
      ['__proto__', 'us_bea'],
      ['constructor', 'gb_dan'],
      ['toString', 'us_cal'],
    ]);
    const { engine, backend } = listEngine();
    await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual(['us_bea', 'gb_dan', 'us_cal']);
  });

  it('a speaker the cast leaves out is not cast by Object.prototype (constructor gets a default, not a function)', async () => {
    const conversation = new Conversation(turns, { cast: { toString: { voice: 'gb_dan' } } });
    const { engine, backend } = listEngine();
    await engine.speak(conversation);
    expect(backend.voicesAsked[2]).toBe('gb_dan');
    for (const voice of backend.voicesAsked.slice(0, 2)) expect(FIXTURE_VOICES.map((listed) => listed.id)).toContain(voice);
  });

  it('negative: a bad entry under __proto__ is refused naming its field (zod would skip it unread)', () => {
    const error = inputFailure(() => new Conversation(turns, { cast: JSON.parse('{"__proto__": {"voice": "us_bea", "rate": 99}}') as Record<string, { rate: number }> }));
    expect(error.field).toBe('options.cast.__proto__.rate');
    expect(error.message).toMatch(/^options\.cast\.__proto__\.rate: .* \(received 99\)$/);
  });

  it('negative: a cast whose prototype was set (an unquoted __proto__ key in a literal) is refused, not read as empty', () => {
    const error = inputFailure(() => new Conversation(turns, { cast: Object.setPrototypeOf({}, { voice: 'us_bea' }) as Record<string, never> }));
    expect(error.field).toBe('options.cast');
    expect(error.message).toMatch(/^options\.cast: expected a plain object .*\["__proto__"\]/);
  });

  it('the script form reads constructor and toString as speakers, and refuses __proto__ naming its line', () => {
    const conversation = Conversation.fromScript('constructor: Hello.\ntoString: Hi.', { cast: { constructor: { voice: 'us_cal' } } });
    expect([...conversation.cast()].map(([speaker, entry]) => [speaker, entry.voice])).toEqual([
      ['constructor', 'us_cal'],
      ['toString', undefined],
    ]);
    const error = inputFailure(() => Conversation.fromScript('Alice: Hi.\n__proto__: hello'));
    expect(error).toMatchObject({ code: 'SCRIPT_INVALID', field: 'script:2' });
    expect(error.message).toBe(`script line 2: a speaker's name is a letter, then up to 63 letters, digits, spaces or _ . ' - (received "__proto__")`);
  });
});

describe('a scene dialogue cast keyed by Object member names', () => {
  /** The voice and speaker each scripted turn's stream started with (its start metadata). */
  function turnStarts(engine: VoiceEngine, since: number): Array<[unknown, unknown]> {
    return engine.registrar
      .attestations(100_000)
      .slice(since)
      .filter((record) => record.action === 'start' && record.decision === 'allowed')
      .map((record) => {
        const metadata = record.parameters.metadata as Record<string, unknown>;
        return [metadata.speaker, metadata.voice];
      });
  }

  it('casts and places __proto__, constructor and toString (API)', async () => {
    const { engine, backend } = listEngine();
    const scene = new Scene({ sampleRate: RATE }).addLayer({
      kind: 'dialogue',
      turns: [...turns],
      cast: JSON.parse('{"__proto__": "us_bea", "toString": "gb_dan"}') as Record<string, string>,
      positions: JSON.parse('{"__proto__": {"x": -1}, "toString": {"x": 1}}') as Record<string, { x: number }>,
    });
    const since = engine.registrar.attestations(100_000).length;
    const rendered = await scene.render(engine);
    expect(backend.voicesAsked).toEqual(['us_bea', undefined, 'gb_dan']);
    expect(turnStarts(engine, since)).toEqual([
      ['__proto__', 'us_bea'],
      ['constructor', 'default'],
      ['toString', 'gb_dan'],
    ]);
    // __proto__ stands hard left, constructor in the middle, toString hard right: every sample finite.
    const frameOf = (ms: number) => Math.round((ms / 1000) * RATE) * 2;
    const [first, second, third] = rendered.turns;
    const sample = (turn: typeof first, channel: 0 | 1) => rendered.pcm[frameOf((turn!.startMs + turn!.endMs) / 2) + channel]!;
    expect(rendered.pcm.every((value) => Number.isFinite(value))).toBe(true);
    expect(sample(first, 0)).toBeGreaterThan(0.1);
    expect(Math.abs(sample(first, 1))).toBeLessThan(1e-6);
    expect(sample(second, 0)).toBeGreaterThan(0.1);
    expect(sample(second, 0)).toBeCloseTo(sample(second, 1), 6);
    expect(Math.abs(sample(third, 0))).toBeLessThan(1e-6);
    expect(sample(third, 1)).toBeGreaterThan(0.1);
  });

  it('casts __proto__ from a scene file (JSON and YAML)', async () => {
    const layer = { kind: 'dialogue', turns: [{ speaker: '__proto__', text: 'Hello.' }, { speaker: 'constructor', text: 'Hi.' }], cast: { ['__proto__']: 'us_cal' } };
    const jsonPath = join(dir, 'members.json');
    writeFileSync(jsonPath, JSON.stringify({ sampleRate: RATE, layers: [layer] }));
    const yamlPath = join(dir, 'members.yaml');
    writeFileSync(yamlPath, `sampleRate: ${RATE}\nlayers:\n  - kind: dialogue\n    cast:\n      __proto__: us_cal\n    turns:\n      - { speaker: __proto__, text: Hello. }\n      - { speaker: constructor, text: Hi. }\n`);
    for (const path of [jsonPath, yamlPath]) {
      const { engine, backend } = listEngine();
      await (await loadSceneFile(path)).render(engine);
      expect(backend.voicesAsked).toEqual(['us_cal', undefined]);
    }
  });
});

describe('voice-soundboard dialogue --cast with Object member names', () => {
  it('casts constructor and toString by --cast, and refuses a __proto__ turn naming its line', async () => {
    const script = join(dir, 'members.txt');
    writeFileSync(script, 'constructor: Hello there.\ntoString: Hi.\n');
    const run = await runCommand(dialogueCommand, [script, '-o', join(dir, 'members.wav'), '--cast', 'constructor=en-gb,toString=en-us+f5']);
    expect(run.stderr).toMatch(/2 turns: constructor=en-gb, toString=en-us\+f5\)/);
    expect(run.code).toBe(0);
    writeFileSync(script, 'Alice: Hello.\n__proto__: Hi.\n');
    const stderr: string[] = [];
    const io = { stdout: process.stdout, stderr: { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WritableStream, stdin: process.stdin };
    expect(await main(['dialogue', script, '-o', join(dir, 'refused.wav'), '--cast', '__proto__=en-gb'], io)).toBe(2);
    expect(stderr.join('')).toMatch(/script line 2: a speaker's name is a letter, then/);
  });
});
