/**
 * `node --import tsx bench/file-memory.ts [chars=95000] [modes=stream,stream-lufs,buffered]`:
 * peak RSS of writing a long text to a WAV file. Each mode runs in its own child process (so
 * peaks do not mix) and reports `process.resourceUsage().maxRSS`:
 *   stream       engine.speakToFile(text, out.wav)                        (sentence by sentence)
 *   stream-lufs  engine.speakToFile(text, out.wav, { targetLufs: -16 })   (two passes via a spool file)
 *   buffered     the pre-issue-9 path, as a baseline in the same run: speak() then writeAudioFile()
 * Prints peak RSS, audio length, wall time and the ratio to the buffered baseline.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SENTENCES = [
  'The committee met on Tuesday to review the plans for the new library.',
  'Several members asked whether the budget would cover the extra reading rooms.',
  'After a long discussion, they agreed to ask the architects for a second estimate.',
  'Nobody expected the weather to change so quickly that afternoon.',
];

/** A text of about `chars` characters made of plain sentences. */
function longText(chars: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const sentence = SENTENCES[i % SENTENCES.length]!;
    parts.push(sentence);
    length += sentence.length + 1;
  }
  return parts.join(' ').slice(0, chars);
}

async function child(mode: string, chars: number, path: string): Promise<void> {
  const { VoiceEngine } = await import('../src/engine/voice-engine.js');
  const { writeAudioFile } = await import('../src/audio/file-writer.js');
  const engine = new VoiceEngine();
  const text = longText(chars);
  const started = performance.now();
  let audioSeconds: number;
  if (mode === 'buffered') {
    const result = await engine.speak(text, { maxInputChars: chars + 1 });
    await writeAudioFile(path, result.audio, { sampleRateHz: result.sampleRateHz, channels: 1 });
    audioSeconds = result.durationMs / 1000;
  } else {
    const result = await engine.speakToFile(text, path, { maxInputChars: chars + 1, ...(mode === 'stream-lufs' ? { targetLufs: -16 } : {}) });
    audioSeconds = result.durationMs / 1000;
  }
  await engine.close();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ mode, maxRssMb: process.resourceUsage().maxRSS / 1024, audioSeconds, seconds })}\n`);
}

async function parent(): Promise<void> {
  const chars = Number(process.argv[2] ?? 95_000);
  const modes = (process.argv[3] ?? 'stream,stream-lufs,buffered').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'vs-file-memory-'));
  const rows: Array<{ mode: string; maxRssMb: number; audioSeconds: number; seconds: number; fileMb: number }> = [];
  try {
    for (const mode of modes) {
      const path = join(dir, `${mode}.wav`);
      const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, String(chars), path], { encoding: 'utf8', maxBuffer: 1 << 20 });
      rows.push({ ...(JSON.parse(out.trim().split('\n').pop() ?? '{}') as (typeof rows)[number]), fileMb: statSync(path).size / 2 ** 20 });
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = rows.find((row) => row.mode === 'buffered');
  console.log(`file-memory: ${chars} characters of text to a WAV file (espeak-ng, 22.05 kHz mono s16)`);
  for (const row of rows) {
    const ratio = baseline ? `  ×${(row.maxRssMb / baseline.maxRssMb).toFixed(2)} of buffered` : '';
    console.log(
      `  ${row.mode.padEnd(12)} peak RSS ${row.maxRssMb.toFixed(0).padStart(5)} MB  audio ${(row.audioSeconds / 60).toFixed(1)} min  file ${row.fileMb.toFixed(0)} MB  wall ${row.seconds.toFixed(0)} s${ratio}`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] ?? 'stream', Number(process.argv[4]), process.argv[5] ?? 'out.wav');
else await parent();
