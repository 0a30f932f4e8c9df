/**
 * Piper phonemization as piper-phonemize does it: the ids fed to the model for 23 golden sentences
 * (English US/GB, French, German, Spanish) equal piper-phonemize's layout of the reference phonemes
 * (phoneme-goldens.ts: espeak-ng IPA decomposed to NFD) through the voice's phoneme_id_map.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiperBackend } from '../../src/backends/piper.js';
import { buildPiperEchoModel, echoedIds } from '../helpers/onnx-model.js';
import { collect, segment } from '../helpers/synthesis.js';
import { PHONEME_GOLDENS } from './phoneme-goldens.js';

/**
 * A phoneme_id_map in Piper's layout (`_` 0, `^` 1, `$` 2, then symbols) covering every golden
 * code point, plus precomposed `ç` and `õ` with ids of their own: a phonemizer that skipped NFD
 * would feed those ids, which the goldens never contain.
 */
function phonemeIdMap(): Record<string, number[]> {
  const symbols = new Set<string>();
  for (const golden of PHONEME_GOLDENS) for (const symbol of golden.piper) symbols.add(symbol);
  const map: Record<string, number[]> = { _: [0], '^': [1], $: [2] };
  let next = 3;
  for (const symbol of [...symbols].sort()) map[symbol] = [next++];
  map['\u00E7'] = [next++];
  map['\u00F5'] = [next++];
  return map;
}

/** piper-phonemize's `phonemes_to_ids`: BOS, PAD, then each phoneme's id and a PAD, then EOS. */
function referenceIds(phonemes: string, map: Record<string, number[]>): number[] {
  const ids = [1, 0];
  for (const symbol of phonemes) ids.push(...(map[symbol] ?? []), 0);
  return [...ids, 2];
}

let dir: string;
const map = phonemeIdMap();
const backends = new Map<string, PiperBackend>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsb-piper-phonemes-'));
  const modelPath = join(dir, 'echo.onnx');
  await writeFile(modelPath, buildPiperEchoModel());
  for (const voice of new Set(PHONEME_GOLDENS.map((golden) => golden.espeakVoice))) {
    const configPath = join(dir, `${voice}.onnx.json`);
    await writeFile(configPath, JSON.stringify({ audio: { sample_rate: 22_050 }, espeak: { voice }, phoneme_type: 'espeak', phoneme_id_map: map, num_speakers: 1 }));
    backends.set(voice, new PiperBackend({ modelPath, configPath }));
  }
});

afterAll(async () => {
  await Promise.all([...backends.values()].map((backend) => backend.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('Piper golden phoneme ids', () => {
  it('covers English, French, German and Spanish with goldens in NFD', () => {
    expect(PHONEME_GOLDENS.length).toBeGreaterThanOrEqual(20);
    for (const golden of PHONEME_GOLDENS) expect(golden.piper).toBe(golden.piper.normalize('NFD'));
    // The German goldens carry a decomposed ç (c + U+0327): the case NFD changes.
    expect(PHONEME_GOLDENS.some((golden) => golden.piper.includes('c\u0327'))).toBe(true);
  });

  for (const golden of PHONEME_GOLDENS) {
    it(`${golden.espeakVoice}: ${golden.text}`, async () => {
      const backend = backends.get(golden.espeakVoice) as PiperBackend;
      const chunks = await collect(backend.synthesize(segment(golden.text)));
      expect(chunks).toHaveLength(1);
      const ids = echoedIds(chunks[0]?.pcm ?? new Float32Array());
      expect(ids).toEqual(referenceIds(golden.piper, map));
      // Planted violation: the precomposed symbols' ids would show up without NFD.
      expect(ids).not.toContain(map['\u00E7']?.[0]);
    });
  }

  it('catches phonemes left precomposed (the planted violation: no NFD) for the sentences with ç', () => {
    const composed = PHONEME_GOLDENS.filter((golden) => golden.piper.includes('c\u0327'));
    expect(composed.length).toBeGreaterThan(0);
    for (const golden of composed) expect(referenceIds(golden.piper.normalize('NFC'), map)).not.toEqual(referenceIds(golden.piper, map));
  });
});
