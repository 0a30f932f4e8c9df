/**
 * The JSON scene format (docs/SCENES.md): `{ durationMs?, seed?, sampleRate?, layers: [...],
 * effects: [...] }`, validated with the same zod schemas as the API; an error names the path of
 * the bad field (`scene.layers.1.duckAmount: ...`). Relative file paths resolve against the
 * scene file's directory. YAML is not read: it would need a new package.
 */
import { dirname, resolve } from 'node:path';
import { readRegularFile } from '../audio/input-file.js';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { Scene } from './scene.js';
import { sceneFileSchema } from './scene-schema.js';
import { parse as parseYaml } from 'yaml';

/** A Scene from parsed JSON (`value`), resolving relative paths against `baseDir`. */
export function sceneFromJson(value: unknown, baseDir: string = process.cwd()): Scene {
  const parsed = parseInput(sceneFileSchema, value, 'scene');
  const scene = new Scene({ seed: parsed.seed, sampleRate: parsed.sampleRate, ...(parsed.durationMs !== undefined ? { durationMs: parsed.durationMs } : {}) }).withBaseDir(baseDir);
  parsed.layers.forEach((layer) => scene.addLayer(layer));
  for (const { atMs, file, generator, source, ...options } of parsed.effects) scene.addEffect(atMs, (file ?? generator ?? source)!, options);
  return scene;
}

/** Largest scene file read (bytes). */
export const MAX_SCENE_FILE_BYTES = 32 * 1024 ** 2;

/**
 * Reads and validates a scene file: JSON, or YAML when it ends in `.yaml`/`.yml` (the same schema;
 * aliases capped, one document). InputError `SCENE_FILE_INVALID` when it does not parse, cannot
 * be read, is not a regular file (a FIFO or device fails at once) or is over MAX_SCENE_FILE_BYTES.
 */
export async function loadSceneFile(path: string): Promise<Scene> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(path, MAX_SCENE_FILE_BYTES));
  } catch (error) {
    throw new InputError(`scene: cannot read ${JSON.stringify(path)}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SCENE_FILE_INVALID', field: 'scene', cause: error });
  }
  const yaml = /\.ya?ml$/i.test(path);
  let value: unknown;
  try {
    value = yaml ? parseYaml(text, { maxAliasCount: 100, uniqueKeys: true }) : JSON.parse(text);
  } catch (error) {
    throw new InputError(`scene: ${JSON.stringify(path)} is not ${yaml ? 'YAML' : 'JSON'}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SCENE_FILE_INVALID', field: 'scene', cause: error });
  }
  return sceneFromJson(value, dirname(resolve(path)));
}
