// An engine that is never closed leaves no temp directory behind at process exit (issue 7.6).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isEspeakProcessAvailable } from '../../src/backends/espeak-process.js';

const ENGINE = fileURLToPath(new URL('../../src/engine/voice-engine.ts', import.meta.url));

function runChild(exitHow: 'natural' | 'exit'): string[] {
  const tempRoot = mkdtempSync(join(tmpdir(), 'vs-leftovers-'));
  try {
    const script = [
      `const { VoiceEngine } = await import(${JSON.stringify(ENGINE)});`,
      `const engine = new VoiceEngine({ backendOptions: { mode: 'process' } });`,
      `const result = await engine.speak('Hello there.');`,
      `if (result.audio.length === 0) throw new Error('no audio');`,
      exitHow === 'exit' ? 'process.exit(0);' : '',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: tempRoot }, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    // tsx keeps its own cache dir there; ours are the voice-soundboard-* ones.
    return readdirSync(tempRoot).filter((name) => name.startsWith('voice-soundboard'));
  } finally {
    rmSync(tempRoot, { recursive: true, force: true });
  }
}

// The leak was the espeak-ng program path's WAV dir; CI installs espeak-ng so this always runs there.
const available = await isEspeakProcessAvailable();

describe.runIf(available)('no temp directory left behind', () => {
  it('when the process ends on its own with an engine never closed', () => {
    expect(runChild('natural')).toEqual([]);
  });

  it('when the process calls process.exit() with an engine never closed', () => {
    expect(runChild('exit')).toEqual([]);
  });
});
