/**
 * WAV LIST/INFO metadata: builds a LIST chunk of INFO sub-chunks, splices it into a WAV header
 * just before the `data` chunk (so a streaming header whose data runs to the end of the stream
 * stays valid: the tags come first), and reads the INFO tags of a WAV file back.
 *
 * Tags use the standard INFO ids where one fits (ISFT software, ICMT comment) and four-letter ids
 * of our own for the rest (see COMPLIANCE_INFO_IDS in src/security/compliance-tags.ts); readers
 * skip chunks and ids they do not know.
 */

/** Largest value a RIFF size field can hold (the streaming placeholder). */
const MAX_RIFF_BYTES = 0xffffffff;

/** A LIST/INFO chunk holding `tags` (4-character ids → text, written as NUL-terminated UTF-8, padded to even sizes). */
export function wavInfoChunk(tags: ReadonlyArray<readonly [id: string, value: string]>): Uint8Array {
  const encoder = new TextEncoder();
  const parts = tags.map(([id, value]) => {
    if (!/^[\x20-\x7e]{4}$/.test(id)) throw new Error(`bad INFO id ${JSON.stringify(id)}`);
    const text = encoder.encode(value.replaceAll('\0', ' '));
    const size = text.length + 1;
    const chunk = new Uint8Array(8 + size + (size & 1));
    chunk.set(encoder.encode(id), 0);
    new DataView(chunk.buffer).setUint32(4, size, true);
    chunk.set(text, 8);
    return chunk;
  });
  const bodyBytes = 4 + parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(8 + bodyBytes);
  out.set(encoder.encode('LIST'), 0);
  new DataView(out.buffer).setUint32(4, bodyBytes, true);
  out.set(encoder.encode('INFO'), 8);
  let offset = 12;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * A WAV header (ending with the `data` chunk's 8-byte header, as `wavHeader` and
 * `wavStreamHeader` make them) with `info` inserted before the data chunk; the RIFF size grows by
 * the chunk's length unless it is the streaming placeholder.
 */
export function withWavInfo(header: Uint8Array, info: Uint8Array): Uint8Array {
  if (info.length === 0) return header;
  const out = new Uint8Array(header.length + info.length);
  out.set(header.subarray(0, header.length - 8), 0);
  out.set(info, header.length - 8);
  out.set(header.subarray(header.length - 8), header.length - 8 + info.length);
  const view = new DataView(out.buffer);
  const riffBytes = view.getUint32(4, true);
  if (riffBytes !== MAX_RIFF_BYTES) view.setUint32(4, Math.min(MAX_RIFF_BYTES, riffBytes + info.length), true);
  return out;
}

/** The INFO tags of a WAV file (id → text), from every LIST/INFO chunk before the data runs to the end; empty when none. */
export function readWavInfo(bytes: Uint8Array): Record<string, string> {
  const tags: Record<string, string> = {};
  if (bytes.length < 12) return tags;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (offset: number): string => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') return tags;
  const decoder = new TextDecoder();
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = ascii(offset);
    const size = view.getUint32(offset + 4, true);
    // A streaming data chunk runs to the end: nothing after it.
    if (id === 'data' && size > bytes.length - offset - 8) break;
    if (id === 'LIST' && offset + 12 <= bytes.length && ascii(offset + 8) === 'INFO') {
      const end = Math.min(bytes.length, offset + 8 + size);
      for (let sub = offset + 12; sub + 8 <= end; ) {
        const subId = ascii(sub);
        const subSize = view.getUint32(sub + 4, true);
        const text = bytes.subarray(sub + 8, Math.min(end, sub + 8 + subSize));
        const nul = text.indexOf(0);
        tags[subId] = decoder.decode(nul === -1 ? text : text.subarray(0, nul));
        sub += 8 + subSize + (subSize & 1);
      }
    }
    offset += 8 + size + (size & 1);
  }
  return tags;
}
