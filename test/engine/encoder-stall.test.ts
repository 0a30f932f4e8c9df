// A speakToFile() whose encoder hangs ends as one whose backend stalls: after admissionTimeoutMs
// without progress the runtime fails the stream (attested, reason naming the encoder and
// admissionTimeoutMs), the call rejects STREAM_FAILED, the ffmpeg child is killed and no file,
// temp or spool file is left. The encoder is a real child process: a fake `ffmpeg` first on PATH
// (it answers the encoder probe, then reads nothing, or reads everything and never exits).
// Real addon (miniaudio's null device) for play: true; deadlines only, no wall-clock assertions.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpeechFileWriter } from '../../src/engine/speech-file.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { constantLevel, LEVEL, nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { processExists, waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();
const root = mkdtempSync(join(tmpdir(), 'vs-encoder-stall-'));
const out = join(root, 'out');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The stall timeout of these engines (short: the hang is planted, not a slow machine). */
const TIMEOUT_MS = 400;

/** Answers the probe (`-encoders`) like an ffmpeg with libmp3lame; otherwise records its pid and runs `body`. */
function fakeFfmpeg(name: string, body: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const script = join(dir, 'ffmpeg');
  writeFileSync(script, `#!/bin/sh\ncase "$*" in *-encoders*) echo " A....D libmp3lame           MP3 (libmp3lame)"; exit 0;; esac\necho $$ > "${dir}/pid"\n${body}\n`);
  chmodSync(script, 0o755);
  return dir;
}

/** Reads nothing from stdin and never exits. */
const DEAF = fakeFfmpeg('deaf', 'exec sleep 90');
/** Reads all of stdin, then never exits (nor writes a byte). */
const MUTE = fakeFfmpeg('mute', 'cat > /dev/null\nexec sleep 90');
/** Reads all of stdin, then fails (exit status 2). */
const FAILING = fakeFfmpeg('failing', 'cat > /dev/null\necho "planted encoder failure" >&2\nexit 2');

const originalPath = process.env['PATH'] ?? '';
/** Puts the fake ffmpeg in `dir` first on PATH (the engine's ffmpeg is `ffmpeg` from PATH). */
function useFfmpeg(dir: string): void {
  process.env['PATH'] = `${dir}${delimiter}${originalPath}`;
}
beforeEach(() => mkdirSync(out, { recursive: true }));
afterEach(() => {
  process.env['PATH'] = originalPath;
  rmSync(out, { recursive: true, force: true });
});

/** The fake's pid once it ran. */
function pidOf(dir: string): number {
  return Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
}

/** The call rejected STREAM_FAILED, the runtime's fail naming the encoder is attested, the child is gone and nothing is left in `out`. */
async function expectStalledEncoderEnded(registrar: AudioRegistrar, call: Promise<unknown>, fake: string): Promise<void> {
  const error = await call.then(
    () => null,
    (failure: unknown) => failure as { code?: string; message?: string; attestationId?: string },
  );
  expect(error).toMatchObject({ code: 'STREAM_FAILED' });
  const [failed] = registrar.attestationStore.query({ action: 'fail' });
  expect(failed).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
  expect(JSON.stringify(failed)).toContain(`the encoder took no audio and put out nothing for ${TIMEOUT_MS} ms (admissionTimeoutMs)`);
  expect(error?.attestationId).toBe(failed?.id);
  // The ffmpeg child was killed (and reaped) before the call settled.
  expect(processExists(pidOf(fake))).toBe(false);
  expect(readdirSync(out)).toEqual([]);
}

/** A file engine (no device) whose encoder is the fake ffmpeg `fake`, on its own registrar; its backend yields `framesPerSegment` a segment. */
function fileEngine(fake: string, framesPerSegment: number): { registrar: AudioRegistrar; engine: VoiceEngine } {
  useFfmpeg(fake);
  const registrar = new AudioRegistrar();
  const engine = new VoiceEngine({ registrar, backend: constantLevel(LEVEL, framesPerSegment), admissionTimeoutMs: TIMEOUT_MS });
  opened.push(engine);
  return { registrar, engine };
}

describe('speakToFile: a hung encoder ends the call like a stalled backend', () => {
  it('integrated loudness (the default): an ffmpeg that reads nothing during the second pass fails the stream, is killed, leaves no file or spool', async () => {
    const { registrar, engine } = fileEngine(DEAF, RATE_HZ);
    await expectStalledEncoderEnded(registrar, engine.speakToFile('One sentence. And another one.', join(out, 'deaf.mp3'), { targetLufs: -20 }), DEAF);
  }, 60_000);

  it('per sentence: an ffmpeg that reads everything but never exits fails the stream at its end, is killed, leaves no file', async () => {
    const { registrar, engine } = fileEngine(MUTE, RATE_HZ / 10);
    await expectStalledEncoderEnded(registrar, engine.speakToFile('One sentence. And another one.', join(out, 'mute.mp3'), { loudnessMode: 'per-sentence' }), MUTE);
  }, 60_000);

  it.each([
    ['per-sentence', 'mid-stream'],
    ['integrated', 'in the second pass, after the device drained'],
  ] as const)('play: true, %s: an encoder that stops reading (%s) fails the playing stream, which releases the device for the next play', async (loudnessMode, _where) => {
    useFfmpeg(DEAF);
    const output = nullDevice(opened, { captureSeconds: 0 });
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, output, backend: constantLevel(LEVEL, RATE_HZ), admissionTimeoutMs: TIMEOUT_MS });
    opened.push(engine);
    const text = 'One. Two. Three. Four. Five. Six.';
    await expectStalledEncoderEnded(registrar, engine.speakToFile(text, join(out, 'played.mp3'), { play: true, loudnessMode, targetLufs: -20 }), DEAF);
    expect(engine.schedule().active).toEqual([]);
    const next = await engine.play('The next one.');
    expect(next.interrupted).toBeUndefined();
  }, 60_000);

  it('an encoder that fails at the end of the file fails the stream (attested), not a natural stop, and leaves no file', async () => {
    const { registrar, engine } = fileEngine(FAILING, RATE_HZ / 10);
    await expect(engine.speakToFile('One sentence. And another one.', join(out, 'failing.mp3'))).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
    const ends = registrar.attestationStore.query({}).filter((record) => record.action === 'stop' || record.action === 'fail');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ action: 'fail', decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
    expect(JSON.stringify(ends[0])).toContain('planted encoder failure');
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('a slow output target does not count as a stalled encoder: a stream that takes each write after three timeouts still gets every byte', async () => {
    let bytes = 0;
    const slow = new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        setTimeout(done, TIMEOUT_MS * 3);
      },
    });
    let stalls = 0;
    const writer = await SpeechFileWriter.open(slow, { format: 'wav', truePeakLimitDb: -1, stallTimeoutMs: TIMEOUT_MS, onStall: () => ((stalls += 1), new Error('stalled')) });
    const chunk = { streamId: 's', index: 0, kind: 'speech' as const, pcm: new Float32Array(RATE_HZ / 10).fill(LEVEL), sampleRateHz: RATE_HZ, channels: 1, startMs: 0, durationMs: 100, nodeId: 'n', marks: [], metadata: {} };
    for (let index = 0; index < 2; index++) await writer.write({ ...chunk, index });
    const written = await writer.close();
    expect(stalls).toBe(0);
    expect(written.frames).toBe((RATE_HZ / 10) * 2);
    await waitUntil(() => bytes === written.file.bytes, 'every byte to reach the stream');
  }, 60_000);
});
