// Regression tests of the adversarial review (finding 8): a live text source that answers at once
// forever (`for (;;) yield ''`, resolving in microtasks only) cannot starve the event loop. The
// cutter waits a macrotask turn every 64 deltas or 5 ms, so timers, aborts and interrupts run; and
// empty deltas count toward `maxEmptyDeltas`. The hang check runs in a child process (the built
// dist/) so a regression cannot take vitest down; its deadline only bounds the hang.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { cutTextSource, textStreamOptionsSchema } from '../../src/streaming/text-source.js';

const dist = resolve(import.meta.dirname, '..', '..', 'dist', 'index.js');

/** Runs `body` (ESM, with VoiceEngine imported from dist/) in a child; its stdout, or the signal that ended it. */
function runChild(body: string): { signal: NodeJS.Signals | null; out: string } {
  const script = `import { VoiceEngine } from ${JSON.stringify(dist)};\n${body}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  return { signal: child.signal, out: child.stdout.trim() };
}

describe('a source that never waits (finding 8)', () => {
  it('an AbortSignal stops play() of a text source that yields empty deltas forever', () => {
    const child = runChild(`
const engine = new VoiceEngine({ audioBackend: 'null' });
async function* source() { for (;;) yield ''; }
const controller = new AbortController();
setTimeout(() => controller.abort(), 50);
try { await engine.play(source(), { signal: controller.signal }); console.log('resolved'); }
catch (error) { console.log('rejected', error.name); }
await engine.close();
`);
    expect(child).toEqual({ signal: null, out: 'rejected AbortError' });
  }, 60_000);

  it('stream() of the same source is stopped by its signal too', () => {
    const child = runChild(`
const engine = new VoiceEngine();
async function* source() { for (;;) yield ''; }
const controller = new AbortController();
setTimeout(() => controller.abort(), 50);
try { for await (const chunk of engine.stream(source(), { signal: controller.signal })) void chunk; console.log('resolved'); }
catch (error) { console.log('rejected', error.name); }
await engine.close();
`);
    expect(child).toEqual({ signal: null, out: 'rejected AbortError' });
  }, 60_000);

  it('a timer fires while the cutter pulls an instant source (the event loop turns)', async () => {
    let fired = false;
    const timer = setTimeout(() => (fired = true), 0);
    const controller = new AbortController();
    const source = (async function* () {
      for (;;) {
        if (fired) controller.abort();
        yield '';
      }
    })();
    await expect(cutTextSource(source, textStreamOptionsSchema.parse({}), controller.signal).next()).rejects.toThrow();
    clearTimeout(timer);
    expect(fired).toBe(true);
  });

  it('more than maxEmptyDeltas empty deltas in a row fail with TEXT_STREAM_LIMIT (planted: a word between them resets the count)', async () => {
    const options = textStreamOptionsSchema.parse({ maxEmptyDeltas: 100 });
    const empties = (async function* () {
      for (;;) yield '';
    })();
    const error = await cutTextSource(empties, options, new AbortController().signal).next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'TEXT_STREAM_LIMIT', field: 'textStream.maxEmptyDeltas' });
    const spaced = (async function* () {
      for (let round = 0; round < 5; round++) {
        for (let index = 0; index < 100; index++) yield '';
        yield `word${round} `;
      }
    })();
    const pieces: string[] = [];
    for await (const piece of cutTextSource(spaced, options, new AbortController().signal)) pieces.push(piece);
    expect(pieces.join(' ')).toBe('word0 word1 word2 word3 word4');
  });
});
