import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compile, looksLikeSsml } from '../../src/compiler/index.js';
import { INJECTION_CORPUS } from '../fixtures/security/injection-corpus.js';
import { graphOutput, judgeOutcome, type Verdict } from '../helpers/injection-runner.js';


/** Runs `voice-soundboard speak` in-process (the binary's own entry point) with captured output. */
async function speak(args: string[]): Promise<{ code: number; stderr: string }> {
  const stderr = new PassThrough();
  const err: string[] = [];
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const stdout = new PassThrough();
  stdout.resume();
  const code = await main(['speak', ...args], { stdout, stderr, stdin: new PassThrough() });
  return { code, stderr: err.join('') };
}

// espeak-ng speaks each payload, so the CLI runs the first base payloads of every category (the
// whole corpus goes through compile and the engine, which the CLI calls); bombs stay with the API.
const CLI_PER_CATEGORY = 6;
const payloads = INJECTION_CORPUS.filter((payload) => !/-(inline|twice)$/.test(payload.id) && Number(payload.id.split('-').at(-1)) < CLI_PER_CATEGORY && payload.text.length <= 400);

describe('injection corpus through the CLI (speak, espeak-ng)', () => {
  for (const face of [
    { name: 'cli:plain', flags: ['--plain'], options: (_text: string) => ({ format: 'text' as const }), mode: 'literal' as const },
    { name: 'cli:auto', flags: [], options: (text: string) => ({ lenient: !looksLikeSsml(text) }), mode: 'bounded' as const },
  ]) {
    it(`${face.name}: 0 successes; every refusal is a coded usage error, never a crash`, async () => {
      const verdicts: Verdict[] = [];
      for (const payload of payloads) {
        // `--` so a payload is never read as a flag.
        const run = await speak(['-o', '-', '-f', 'pcm', '-q', ...face.flags, '--', payload.text]);
        let api: ReturnType<typeof compile> | undefined;
        try {
          api = compile(payload.text, face.options(payload.text));
        } catch {
          api = undefined;
        }
        let success: string | null = null;
        if (run.code === 0) {
          // The CLI spoke it: the same compile must have accepted it, and its output must pass the judge.
          success = api === undefined ? 'the CLI spoke what the API refuses' : judgeOutcome(payload, face.mode, graphOutput(api));
        } else if (!/^voice-soundboard speak: [^\n]+ \[[A-Z_]+\]\n$/.test(run.stderr) || /[\p{C}\p{Zl}\p{Zp}]/u.test(run.stderr.slice(0, -1)) || (api === undefined && run.code !== 2)) {
          // A refusal is one coded, printable line: exit 2 (usage) for what the API refuses, else 2 or 1 (e.g. AUDIO_EMPTY: nothing to say).
          success = `exit ${run.code}: ${run.stderr.slice(0, 200)}`;
        }
        verdicts.push({ face: face.name, id: payload.id, outcome: run.code === 0 ? 'spoken' : 'refused', success });
      }
      expect(verdicts.filter((verdict) => verdict.success !== null)).toEqual([]);
      expect(verdicts.some((verdict) => verdict.outcome === 'spoken')).toBe(true);
      if (face.mode === 'bounded') expect(verdicts.some((verdict) => verdict.outcome === 'refused')).toBe(true);
    }, 300_000);
  }
});
