import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, BackendError } from '../../src/errors.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { sharedEspeakWasm } from '../../src/backends/espeak-wasm.js';
import { segment } from '../helpers/synthesis.js';
import { collect, durationMs, expectSpeechLikeFox, FOX, medianF0Hz, rms } from './espeak-signal.js';

describe('espeak backend through the WASM build (forced)', () => {
  const backend = new EspeakBackend({ mode: 'wasm' });
  afterAll(() => backend.close());

  it('uses the WASM build', async () => {
    expect(await backend.path()).toBe('wasm');
    expect(await backend.health()).toMatchObject({ status: 'ok', detail: 'espeak-ng WASM build' });
  });

  it('produces speech: plausible duration, energy, zero crossings and f0', async () => {
    const audio = await collect(backend.synthesize(segment(FOX)));
    expect(audio.sampleRateHz).toBe(22050);
    expectSpeechLikeFox(audio);
    expect(audio.chunks[0]?.metadata.phonemes).toContain('kwˈɪk');
  });

  it('gives the same audio as the system program (same espeak-ng data)', async () => {
    const viaProcess = new EspeakBackend({ mode: 'process' });
    const fromProcess = await collect(viaProcess.synthesize(segment(FOX)));
    const fromWasm = await collect(backend.synthesize(segment(FOX)));
    expect(Math.abs(fromWasm.pcm.length - fromProcess.pcm.length)).toBeLessThan(fromProcess.pcm.length * 0.1);
    expect(rms(fromWasm.pcm)).toBeCloseTo(rms(fromProcess.pcm), 1);
    await viaProcess.close();
  });

  it('starts every call from clean state: the same request gives identical PCM, whatever ran between', async () => {
    const first = await collect(backend.synthesize(segment(FOX)));
    await collect(backend.synthesize(segment('Ein ganz anderer Satz.', { prosody: { rate: 1.7, pitchSemitones: -3 } }), { voice: 'de' }));
    const again = await collect(backend.synthesize(segment(FOX)));
    expect(again.pcm).toEqual(first.pcm);
  });

  it('changes the audio with prosody: rate 2 is clearly shorter, pitch up raises f0', async () => {
    const normal = await collect(backend.synthesize(segment(FOX)));
    const fast = await collect(backend.synthesize(segment(FOX, { prosody: { rate: 2 } })));
    const high = await collect(backend.synthesize(segment(FOX, { prosody: { pitchSemitones: 6 } })));
    expect(durationMs(fast)).toBeLessThan(durationMs(normal) * 0.7);
    expect(medianF0Hz(high.pcm, high.sampleRateHz)).toBeGreaterThan(medianF0Hz(normal.pcm, normal.sampleRateHz) * 1.2);
  });

  it('rejects an unknown voice with VOICE_UNKNOWN', async () => {
    const error = await collect(backend.synthesize(segment('hello'), { voice: 'klingon' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'VOICE_UNKNOWN' });
  });

  it('stops between sentences when aborted', async () => {
    const text = Array.from({ length: 20 }, (_, index) => `Sentence ${index + 1} is here.`).join(' ');
    const controller = new AbortController();
    let received = 0;
    const error = await (async () => {
      for await (const chunk of backend.synthesize(segment(text), {}, controller.signal)) {
        expect(chunk.pcm.length).toBeGreaterThan(0);
        received += 1;
        if (received === 1) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect(received).toBe(1);
  });

  it('reports espeak-ng failures with its message and leaves process.exitCode alone', async () => {
    const wasm = await sharedEspeakWasm();
    const exitCodeBefore = process.exitCode;
    const result = await wasm.run({ args: ['-q', '-v', 'xx-does-not-exist'], inputText: 'hello' });
    expect(result.exitCode).toBe(1);
    expect(result.stderrLines.join('\n')).toContain('voice does not exist');
    expect(process.exitCode).toBe(exitCodeBefore);
    // and the instance still works afterwards
    const ok = await wasm.run({ args: ['-q', '--ipa=3', '-v', 'en-us'], inputText: 'hello' });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdoutLines.join(' ').replace(/\u200d/g, '')).toContain('həlˈoʊ');
  });
});
