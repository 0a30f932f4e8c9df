import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dialogueCommand } from '../../src/cli/dialogue.js';
import { main } from '../../src/cli/main.js';
import { decodeWav } from '../../src/audio/wav.js';
import { runCommand } from '../helpers/cli.js';
import { medianPitchHz } from '../helpers/speech-measures.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-dialogue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCRIPT = ['# two voices', 'Alice: Hello Bob, are you there?', '[pause 400ms]', 'Bob: (laughs) I am here.', 'Alice: Good.'].join('\n');

/** Cue times (ms) of SRT or WebVTT text. */
function cues(text: string): Array<[number, number]> {
  return [...text.matchAll(/(\d{2}):(\d{2}):(\d{2})[,.](\d{3}) --> (\d{2}):(\d{2}):(\d{2})[,.](\d{3})/g)].map((m) => {
    const n = m.slice(1).map(Number);
    return [n[0]! * 3_600_000 + n[1]! * 60_000 + n[2]! * 1000 + n[3]!, n[4]! * 3_600_000 + n[5]! * 60_000 + n[6]! * 1000 + n[7]!];
  });
}

describe('voice-soundboard dialogue', () => {
  it('writes the mixdown and SRT/WebVTT subtitles whose cues hold the speakers where the audio does', async () => {
    const scriptPath = join(dir, 'scene.txt');
    writeFileSync(scriptPath, SCRIPT);
    const [wav, srt, vtt] = ['out.wav', 'out.srt', 'out.vtt'].map((name) => join(dir, name)) as [string, string, string];
    const run = await runCommand(dialogueCommand, [scriptPath, '-o', wav, '--srt', srt, '--vtt', vtt]);
    expect(run.stderr).toMatch(/wrote .*out\.wav \(wav, \d+\.\d\d s, 3 turns: Alice=en-us, Bob=en-us\+f3\)/);
    expect(run.code).toBe(0);
    const audio = decodeWav(readFileSync(wav));
    const srtCues = cues(readFileSync(srt, 'utf8'));
    expect(cues(readFileSync(vtt, 'utf8'))).toEqual(srtCues);
    expect(srtCues).toHaveLength(3);
    expect(srtCues[1]![0] - srtCues[0]![1]).toBeGreaterThanOrEqual(399);
    // Alice's and Bob's cues cover audio of clearly different pitch (the subtitles sit on the audio).
    const pitchOf = ([start, end]: [number, number]) => medianPitchHz(audio.pcm.subarray(Math.round((start / 1000) * audio.sampleRateHz), Math.round((end / 1000) * audio.sampleRateHz)), audio.sampleRateHz);
    expect(pitchOf(srtCues[1]!) / pitchOf(srtCues[0]!)).toBeGreaterThan(1.3);
    expect(pitchOf(srtCues[1]!) / pitchOf(srtCues[2]!)).toBeGreaterThan(1.3);
  });

  it('--cast picks the voices (one voice for both: no pitch difference left)', async () => {
    const scriptPath = join(dir, 'cast.txt');
    writeFileSync(scriptPath, SCRIPT);
    const [wav, srt] = [join(dir, 'cast.wav'), join(dir, 'cast.srt')];
    const run = await runCommand(dialogueCommand, [scriptPath, '-o', wav, '--srt', srt, '--cast', 'alice=en-us,Bob=en-us', '-q']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const audio = decodeWav(readFileSync(wav));
    const srtCues = cues(readFileSync(srt, 'utf8'));
    const pitchOf = ([start, end]: [number, number]) => medianPitchHz(audio.pcm.subarray(Math.round((start / 1000) * audio.sampleRateHz), Math.round((end / 1000) * audio.sampleRateHz)), audio.sampleRateHz);
    expect(pitchOf(srtCues[1]!) / pitchOf(srtCues[0]!)).toBeLessThan(1.3);
  });

  it('a script error names its line and exits 2; bad flags are usage errors', async () => {
    const scriptPath = join(dir, 'bad.txt');
    writeFileSync(scriptPath, 'Alice: Hi.\n[pause later]\nBob: Yo.\n');
    const stderr: string[] = [];
    const io = { stdout: process.stdout, stderr: { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WritableStream, stdin: process.stdin };
    expect(await main(['dialogue', scriptPath, '-o', join(dir, 'bad.wav')], io)).toBe(2);
    expect(stderr.join('')).toContain('script line 2: [pause …] needs a duration');
    stderr.length = 0;
    expect(await main(['dialogue', scriptPath, '-o', join(dir, 'bad.wav'), '--cast', 'alice'], io)).toBe(2);
    expect(stderr.join('')).toContain('--cast: expected speaker=voice pairs');
    stderr.length = 0;
    expect(await main(['dialogue', scriptPath, '--srt', join(dir, 'x.srt')], io)).toBe(2);
    expect(stderr.join('')).toContain('--srt: subtitles need -o/--output');
  });

  it('an unknown voice in --cast is a usage error (exit 2) naming the flag and the voice', async () => {
    const scriptPath = join(dir, 'voice.txt');
    writeFileSync(scriptPath, SCRIPT);
    const stderr: string[] = [];
    const io = { stdout: process.stdout, stderr: { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WritableStream, stdin: process.stdin };
    expect(await main(['dialogue', scriptPath, '-o', join(dir, 'voice.wav'), '--cast', 'bob=no-such-voice'], io)).toBe(2);
    expect(stderr.join('')).toMatch(/--cast: .*no-such-voice/);
  });
});
