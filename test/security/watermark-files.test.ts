/**
 * The watermark at synthesis (engine option and per call, speak/stream/speakToFile) and the
 * compliance tags of written files (WAV LIST/INFO in a file and in a stream, ID3 in mp3), read
 * back by `inspectAudioFile` and `voice-soundboard inspect`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/audio/wav.js';
import { readWavInfo } from '../../src/audio/wav-info.js';
import { inspectCommand } from '../../src/cli/inspect.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { inspectAudioFile } from '../../src/security/inspect-file.js';
import { detectWatermark, watermarkId } from '../../src/security/watermark.js';
import { runCommand } from '../helpers/cli.js';
import { rejection } from '../helpers/errors.js';

const KEY = 'files-test-key-0001';
const TEXT = 'The night train to Vienna leaves at ten. Most passengers are asleep before it crosses the river. The dining car stays open until midnight, and breakfast is served at seven.';
const dir = mkdtempSync(join(tmpdir(), 'vs-watermark-'));
const engine = new VoiceEngine({ watermark: { key: KEY, payload: 0xc0ffee } });
const plain = new VoiceEngine();
afterAll(async () => {
  await engine.close();
  await plain.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('watermark at synthesis', () => {
  it('marks speak() with the engine option, and a call can carry its own payload', async () => {
    const marked = await engine.speak(TEXT);
    expect(detectWatermark({ pcm: marked.audio, sampleRateHz: marked.sampleRateHz }, KEY)).toMatchObject({ present: true, payload: 0xc0ffee });
    const own = await engine.speak(TEXT, { watermark: { key: KEY, payload: 7 } });
    expect(detectWatermark({ pcm: own.audio, sampleRateHz: own.sampleRateHz }, KEY)).toMatchObject({ present: true, payload: 7 });
  });

  it('leaves audio unmarked without the option (the detector finds nothing)', async () => {
    const result = await plain.speak(TEXT);
    expect(detectWatermark({ pcm: result.audio, sampleRateHz: result.sampleRateHz }, KEY).present).toBe(false);
  });

  it('marks stream() chunk by chunk (same length out as in)', async () => {
    const chunks: Float32Array[] = [];
    let rateHz = 0;
    for await (const chunk of engine.stream(TEXT, { watermark: { key: KEY, payload: 99 } })) {
      chunks.push(chunk.pcm);
      rateHz = chunk.sampleRateHz;
    }
    const pcm = new Float32Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      pcm.set(chunk, offset);
      offset += chunk.length;
    }
    const unmarked = await plain.speak(TEXT);
    expect(pcm.length).toBe(unmarked.audio.length);
    expect(detectWatermark({ pcm, sampleRateHz: rateHz }, KEY)).toMatchObject({ present: true, payload: 99 });
  });

  it('refuses a bad watermark option naming the field', async () => {
    const error = await rejection(engine.speak('Hello.', { watermark: { key: 'short', payload: 1 } }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('options.watermark.key');
    expect(() => new VoiceEngine({ watermark: { key: KEY, payload: 2 ** 32 } })).toThrow(/watermark\.payload/);
  });
});

describe('compliance tags', () => {
  it('writes LIST/INFO into a WAV file, readable and with the stream\'s attestation', async () => {
    const path = join(dir, 'tagged.wav');
    const result = await engine.speakToFile(TEXT, path);
    const bytes = new Uint8Array(readFileSync(path));
    const info = readWavInfo(bytes);
    expect(info['ISFT']).toMatch(/^voice-soundboard \d+\.\d+\.\d+/);
    expect(info['ICMT']).toBe('synthetic speech');
    expect(info['IVSB']).toBe('espeak');
    expect(info['IVSV']).toBe('default');
    expect(info['IVSS']).toBe(result.streamId);
    expect(info['IVSA']).toBe(result.attestations[0]?.id);
    expect(info['IVSW']).toBe(watermarkId({ key: KEY, payload: 0xc0ffee }));
    // Still a valid WAV with every frame, and the mark is in it.
    const wav = decodeWav(bytes);
    expect(wav.pcm.length).toBe(result.file.frames);
    expect(detectWatermark(wav, KEY)).toMatchObject({ present: true, payload: 0xc0ffee });
  });

  it('puts the tags before the data of a streamed WAV, which stays valid', async () => {
    const parts: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (parts.push(chunk), done()) });
    await plain.speakToFile(TEXT, sink, { voice: 'en-us' });
    const bytes = new Uint8Array(Buffer.concat(parts));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(0xffffffff);
    expect(readWavInfo(bytes)).toMatchObject({ ICMT: 'synthetic speech', IVSV: 'en-us', IVSW: 'none' });
    expect(decodeWav(bytes).pcm.length).toBeGreaterThan(0);
  });

  it('tags an mp3 with ID3 and finds the mark through ffmpeg', async () => {
    const path = join(dir, 'tagged.mp3');
    await engine.speakToFile(TEXT, path);
    const inspection = await inspectAudioFile(path, { key: KEY });
    expect(inspection.container).toBe('mp3');
    expect(inspection.compliance).toMatchObject({ comment: 'synthetic speech', backend: 'espeak', watermark: watermarkId({ key: KEY, payload: 0xc0ffee }) });
    expect(inspection.watermark).toMatchObject({ present: true, payload: 0xc0ffee });
  });

  it('inspect prints tags and the detector\'s answer; an untagged file declares nothing', async () => {
    const path = join(dir, 'cli.wav');
    await engine.speakToFile(TEXT, path);
    const json = await runCommand(inspectCommand, [path, '--key', KEY, '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { compliance: Record<string, string>; watermark: { present: boolean; payload: number } };
    expect(parsed.compliance['comment']).toBe('synthetic speech');
    expect(parsed.watermark).toMatchObject({ present: true, payload: 0xc0ffee });
    const text = await runCommand(inspectCommand, [path]);
    expect(text.stdout).toContain('synthetic speech: declared');
    expect(text.stdout).toContain('watermark: not checked');
    // Planted: a WAV without tags and without a mark.
    const bare = join(dir, 'bare.wav');
    writeFileSync(bare, encodeWav(new Float32Array(22050), { sampleRateHz: 22050, channels: 1, format: 's16' }));
    const untagged = await runCommand(inspectCommand, [bare, '--key', KEY]);
    expect(untagged.stdout).toContain('tags: none');
    expect(untagged.stdout).toContain('synthetic speech: not declared');
    expect(untagged.stdout).toContain('watermark: not found for this key (confidence 0.00); too short: the detector needs at least 3 s of audio');
  });

  it('inspect refuses a missing file with a clear error', async () => {
    const error = await rejection(runCommand(inspectCommand, [join(dir, 'missing.wav')]));
    expect(error).toMatchObject({ code: 'FILE_UNREADABLE', field: 'path' });
  });
});
