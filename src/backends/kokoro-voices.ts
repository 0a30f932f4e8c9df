/**
 * Kokoro voice packs from the files users actually have. A voice pack is a float32 table of
 * `rows x styleDim` (published packs are [510, 1, 256]); row `n - 1` is the style for an input of
 * n tokens. Supported, without dependencies:
 *
 * - a raw little-endian float32 file (`af_heart.bin`, as in the onnx-community export's `voices/`);
 * - a NumPy `.npy` file of float32;
 * - a NumPy `.npz` archive of `.npy` entries, stored or deflated, zip64 included (kokoro-onnx's
 *   `voices-v1.0.bin` is one, whatever its extension: detected by content);
 * - a JSON object of voice name -> nested number arrays (kokoro-onnx's older `voices.json`);
 * - a directory of any of the single-voice files above.
 *
 * Not supported: PyTorch `.pt` packs (pickles), and unnamed concatenations of several voices
 * (sherpa-onnx's `voices.bin`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { BackendError } from '../errors.js';

/** One voice's style table. */
export interface KokoroVoicePack {
  /** Voice id, e.g. `af_heart`. */
  name: string;
  /** Row-major styles: `rows * styleDim` floats. */
  styles: Float32Array;
  rows: number;
  styleDim: number;
}

/** Returns the style row for an input of `tokenCount` tokens (clamped to the pack). */
export function selectStyle(pack: KokoroVoicePack, tokenCount: number): Float32Array {
  const row = Math.min(Math.max(tokenCount, 1), pack.rows) - 1;
  return pack.styles.subarray(row * pack.styleDim, (row + 1) * pack.styleDim);
}

const BACKEND = 'kokoro';
const ZIP_MAGIC = 0x04034b50;
const NPY_MAGIC = '\x93NUMPY';

function invalid(path: string, reason: string, cause?: unknown): BackendError {
  return new BackendError(BACKEND, 'BACKEND_VOICES_INVALID', `voices file ${path}: ${reason}`, cause === undefined ? {} : { cause });
}

function toPack(name: string, values: Float32Array, styleDim: number, where: string): KokoroVoicePack {
  if (values.length === 0 || values.length % styleDim !== 0) {
    throw invalid(where, `voice "${name}" has ${values.length} floats, expected a non-empty multiple of the style size ${styleDim}`);
  }
  return { name, styles: values, rows: values.length / styleDim, styleDim };
}

function rawFloat32(bytes: Uint8Array, where: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw invalid(where, `${bytes.byteLength} bytes is not a whole number of float32 values`);
  // Copy so the floats are aligned and independent of the file buffer.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** Parses a NumPy .npy (format 1.0-3.0) holding little-endian float32 in C order. */
export function parseNpy(bytes: Uint8Array, where: string): Float32Array {
  const text = (start: number, end: number) => Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  if (bytes.byteLength < 10 || text(0, 6) !== NPY_MAGIC) throw invalid(where, 'not a NumPy .npy array');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = view.getUint8(6);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = text(headerStart, Math.min(bytes.byteLength, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/u.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/u.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/u.exec(header)?.[1];
  if (descr !== '<f4') throw invalid(where, `array type ${descr ?? 'unknown'} is not supported (expected little-endian float32 '<f4')`);
  if (fortran !== 'False') throw invalid(where, 'Fortran-ordered arrays are not supported');
  if (shapeText === undefined) throw invalid(where, 'the .npy header has no shape');
  const count = shapeText
    .split(',')
    .map((dim) => dim.trim())
    .filter((dim) => dim.length > 0)
    .reduce((product, dim) => product * Number(dim), 1);
  const data = bytes.subarray(headerStart + headerLength);
  if (!Number.isSafeInteger(count) || data.byteLength < count * 4) {
    throw invalid(where, `shape (${shapeText}) needs ${count * 4} bytes of data, the file has ${data.byteLength}`);
  }
  return rawFloat32(data.subarray(0, count * 4), where);
}

/** One file inside a zip archive. */
interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** Reads every file of a zip archive (stored or deflated entries; zip64 sizes and offsets). */
export function readZip(bytes: Uint8Array, where: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let endRecord = -1;
  for (let offset = bytes.byteLength - 22; offset >= Math.max(0, bytes.byteLength - 22 - 0xffff); offset--) {
    if (view.getUint32(offset, true) === 0x06054b50) {
      endRecord = offset;
      break;
    }
  }
  if (endRecord < 0) throw invalid(where, 'zip archive without an end-of-central-directory record (truncated?)');
  let entryCount = view.getUint16(endRecord + 10, true);
  let directoryOffset = view.getUint32(endRecord + 16, true);
  if (entryCount === 0xffff || directoryOffset === 0xffffffff) {
    const locator = endRecord - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) throw invalid(where, 'zip64 archive without a zip64 locator');
    const zip64End = Number(view.getBigUint64(locator + 8, true));
    if (view.getUint32(zip64End, true) !== 0x06064b50) throw invalid(where, 'zip64 end record not found');
    entryCount = Number(view.getBigUint64(zip64End + 32, true));
    directoryOffset = Number(view.getBigUint64(zip64End + 48, true));
  }
  const entries: ZipEntry[] = [];
  let cursor = directoryOffset;
  for (let index = 0; index < entryCount; index++) {
    if (cursor + 46 > bytes.byteLength || view.getUint32(cursor, true) !== 0x02014b50) throw invalid(where, 'corrupt zip central directory');
    const method = view.getUint16(cursor + 10, true);
    const expectedCrc = view.getUint32(cursor + 16, true);
    let compressedSize = view.getUint32(cursor + 20, true);
    let size = view.getUint32(cursor + 24, true);
    const nameLength = view.getUint16(cursor + 28, true);
    const extraLength = view.getUint16(cursor + 30, true);
    const commentLength = view.getUint16(cursor + 32, true);
    let localOffset = view.getUint32(cursor + 42, true);
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + cursor + 46, nameLength).toString('utf8');
    // A zip64 extra field holds, in this order, whichever of the three values overflowed.
    let extra = cursor + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        if (size === 0xffffffff) (size = Number(view.getBigUint64(field, true))), (field += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(view.getBigUint64(field, true))), (field += 8);
        if (localOffset === 0xffffffff) localOffset = Number(view.getBigUint64(field, true));
      }
      extra += 4 + length;
    }
    cursor = extraEnd + commentLength;
    if (name.endsWith('/')) continue;
    if (view.getUint32(localOffset, true) !== ZIP_MAGIC) throw invalid(where, `corrupt zip entry "${name}"`);
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const stored = bytes.subarray(dataStart, dataStart + compressedSize);
    let data: Uint8Array;
    if (method === 0) data = stored;
    else if (method === 8) {
      try {
        data = inflateRawSync(stored);
      } catch (error) {
        throw invalid(where, `zip entry "${name}" cannot be inflated`, error);
      }
    } else throw invalid(where, `zip entry "${name}" uses compression method ${method} (only stored and deflate are supported)`);
    if (data.byteLength !== size || crc32(data) !== expectedCrc) throw invalid(where, `zip entry "${name}" is corrupt (size or CRC mismatch)`);
    entries.push({ name, data });
  }
  return entries;
}

const numberTree: (value: unknown, out: number[]) => boolean = (value, out) => {
  if (typeof value === 'number') return out.push(value), true;
  return Array.isArray(value) && value.every((item) => numberTree(item, out));
};

function parseJsonVoices(bytes: Uint8Array, path: string, styleDim: number): KokoroVoicePack[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw invalid(path, 'not valid JSON', error);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(path, 'expected a JSON object of voice name -> number arrays');
  return Object.entries(parsed).map(([name, value]) => {
    const values: number[] = [];
    if (!numberTree(value, values)) throw invalid(path, `voice "${name}" is not a (nested) array of numbers`);
    return toPack(name, Float32Array.from(values), styleDim, path);
  });
}

function voiceName(fileName: string): string {
  return basename(fileName, extname(fileName));
}

/** Parses one voices file (format detected by content, then extension). */
function parseVoicesFile(bytes: Uint8Array, path: string, styleDim: number): KokoroVoicePack[] {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 6)).toString('latin1');
  if (bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === ZIP_MAGIC) {
    const packs = readZip(bytes, path)
      .filter((entry) => entry.name.endsWith('.npy'))
      .map((entry) => toPack(voiceName(entry.name), parseNpy(entry.data, `${path}:${entry.name}`), styleDim, path));
    if (packs.length === 0) throw invalid(path, 'the archive holds no .npy voices');
    return packs;
  }
  if (head === NPY_MAGIC) return [toPack(voiceName(path), parseNpy(bytes, path), styleDim, path)];
  if (extname(path).toLowerCase() === '.json') return parseJsonVoices(bytes, path, styleDim);
  return [toPack(voiceName(path), rawFloat32(bytes, path), styleDim, path)];
}

const SINGLE_VOICE_EXTENSIONS = new Set(['.bin', '.npy']);

/**
 * Loads the voices at `path` (a file or a directory of single-voice files). Throws `BackendError`
 * `BACKEND_VOICES_NOT_FOUND` naming the path when it is missing, `BACKEND_VOICES_INVALID` when a
 * file cannot be parsed or holds no voice.
 */
export async function loadKokoroVoices(path: string, styleDim: number): Promise<Map<string, KokoroVoicePack>> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw new BackendError(BACKEND, 'BACKEND_VOICES_NOT_FOUND', `voices file or directory not found: ${path}`, { cause: error });
  }
  const files = isDirectory
    ? (await readdir(path))
        .filter((file) => SINGLE_VOICE_EXTENSIONS.has(extname(file).toLowerCase()))
        .sort()
        .map((file) => join(path, file))
    : [path];
  if (files.length === 0) throw invalid(path, 'the directory has no .bin or .npy voice files');
  const voices = new Map<string, KokoroVoicePack>();
  for (const file of files) {
    for (const pack of parseVoicesFile(await readFile(file), file, styleDim)) voices.set(pack.name, pack);
  }
  return voices;
}
