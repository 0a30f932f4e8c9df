import { describe, expect, it } from 'vitest';
import { isEspeakProcessAvailable, runEspeakProcess } from '../../src/backends/espeak-process.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { AbortError, BackendError } from '../../src/errors.js';
import { NEUTRAL_PROSODY } from '../../src/graph/engine-output.js';

describe('runEspeakProcess', () => {
  it('passes text through stdin and returns stdout', async () => {
    const result = await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['-q', '--ipa=3', '-v', 'en-us', '--stdin'], stdinText: '--help me' });
    expect(result.stdout.toString('utf8').replace(/\u200d/g, '')).toContain('hˈɛlp');
  });

  it('reports a non-zero exit with espeak-ng’s own message', async () => {
    const error = await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['-q', '-v', 'xx-does-not-exist', '--stdin'], stdinText: 'hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'ESPEAK_FAILED', retryable: false });
    expect((error as Error).message).toMatch(/exited with code 1: .*voice does not exist/);
  });

  it('reports a missing program with the install hint', async () => {
    const error = await runEspeakProcess({ binaryPath: '/nonexistent/espeak-ng', args: ['--version'] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND' });
    expect((error as Error).message).toContain('apt-get install espeak-ng');
    expect(await isEspeakProcessAvailable('/nonexistent/espeak-ng')).toBe(false);
    expect(await isEspeakProcessAvailable('espeak-ng')).toBe(true);
  });

  it('kills the program when aborted mid-run', async () => {
    const controller = new AbortController();
    const longText = 'word '.repeat(20_000);
    const started = performance.now();
    setTimeout(() => controller.abort(), 30);
    const error = await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['--stdout', '-v', 'en-us', '--stdin'], stdinText: longText, signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    // 20 000 words take espeak-ng seconds; the abort ends the wait right away
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('aborts a backend call inside one long chunk without yielding audio', async () => {
    const backend = new EspeakBackend({ mode: 'process', maxChunkChars: 10_000 });
    const segment = { text: 'word '.repeat(1990), prosody: { ...NEUTRAL_PROSODY } };
    // The same call run to completion, on this machine now, is the yardstick.
    let started = performance.now();
    for await (const _chunk of backend.synthesize(segment)) {
      // consume
    }
    const fullMs = performance.now() - started;
    const controller = new AbortController();
    let chunks = 0;
    setTimeout(() => controller.abort(), 30);
    started = performance.now();
    const error = await (async () => {
      for await (const _chunk of backend.synthesize(segment, {}, controller.signal)) chunks += 1;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect(chunks).toBe(0);
    expect(performance.now() - started).toBeLessThan(fullMs / 2);
    await backend.close();
  });
});
