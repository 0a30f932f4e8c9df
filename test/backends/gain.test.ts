import { describe, expect, it } from 'vitest';
import { measureLoudness } from '../../src/audio/loudness.js';
import { applyGainInPlace, dbToGain, VOLUME_CEILING_DB } from '../../src/backends/gain.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';

/** Samples at or beyond full scale: what a hard clipper leaves. */
function fullScaleCount(pcm: Float32Array): number {
  let count = 0;
  for (const sample of pcm) if (Math.abs(sample) >= 1) count++;
  return count;
}

describe('gain', () => {
  it('turns dB into a linear gain', () => {
    expect(dbToGain(0)).toBe(1);
    expect(dbToGain(20)).toBeCloseTo(10, 12);
    expect(dbToGain(-20 * Math.log10(2))).toBeCloseTo(0.5, 12);
  });

  it('applies a small gain in place exactly and silences NaN', () => {
    const samples = Float32Array.from([0.1, -0.1, 0.2, -0.2, Number.NaN, 0.05]);
    const result = applyGainInPlace(samples, 2, 22050);
    expect(result).toBe(samples);
    expect(Array.from(samples)).toEqual(Array.from(Float32Array.from([0.2, -0.2, 0.4, -0.4, 0, 0.1])));
  });

  it('limits a loud gain instead of clipping: no sample at full scale, true peak under the ceiling', () => {
    const rate = 22050;
    const pcm = Float32Array.from({ length: rate }, (_, i) => 0.8 * Math.sin((2 * Math.PI * 300 * i) / rate) * Math.sin((Math.PI * i) / rate));
    const plain = pcm.map((sample) => sample * dbToGain(12));
    // The planted violation: the plain gain clips, and the check sees it.
    expect(fullScaleCount(plain)).toBeGreaterThan(1000);
    applyGainInPlace(pcm, dbToGain(12), rate);
    expect(fullScaleCount(pcm)).toBe(0);
    expect(measureLoudness(pcm, { sampleRateHz: rate, channels: 1 }).truePeakDb).toBeLessThanOrEqual(VOLUME_CEILING_DB + 0.1);
  });
});

describe('prosody volume through espeak-ng', () => {
  for (const volume of ['+6dB', 'x-loud']) {
    it(`volume="${volume}" never hard-clips: 0 samples at full scale, true peak <= ${VOLUME_CEILING_DB} dBTP + 0.1`, async () => {
      const engine = new VoiceEngine();
      try {
        const text = `<speak><prosody volume="${volume}">Shouting loudly, the announcer read every single word of the long bulletin.</prosody></speak>`;
        const { audio, sampleRateHz } = await engine.speak(text);
        expect(audio.length).toBeGreaterThan(sampleRateHz);
        expect(fullScaleCount(audio)).toBe(0);
        const measured = measureLoudness(audio, { sampleRateHz, channels: 1 });
        expect(measured.truePeakDb).toBeLessThanOrEqual(VOLUME_CEILING_DB + 0.1);
        // Louder than the same text at normal volume: the volume was applied, not dropped.
        const normal = await engine.speak(text.replace(`volume="${volume}"`, 'volume="medium"'));
        expect(measured.integratedLufs).toBeGreaterThan(measureLoudness(normal.audio, { sampleRateHz, channels: 1 }).integratedLufs + 2);
      } finally {
        await engine.close();
      }
    });
  }
});
