// Segmented logs on real files: rotation at a size (fsync and group mode), the chain continuing
// across segments, an atomic manifest, transparent reading (open, iterate, replay, verify) given
// the log's path, and each way the files can disagree with the manifest caught with its code and
// seq: a missing, extra, reordered or truncated segment, a broken manifest, an interrupted rotation.
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableLog, segmentFile } from '../../src/attestation/durable-log.js';
import type { AttestationError } from '../../src/attestation/errors.js';
import { iterateAttestationLog, readAttestationLog } from '../../src/attestation/log-reader.js';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, readManifest } from '../../src/attestation/log-segments.js';
import { GENESIS_HASH } from '../../src/attestation/record.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const SEGMENT_BYTES = 4096;
const tempDir = tempDirs('attestation-segments-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'log');
}

/** `count` requests (lifecycles of 4 requests, one denial in 7) by a registrar on `store`. */
function run(registrar: AudioRegistrar, count: number): void {
  const steps = ['start', 'synthesize', 'play', 'stop'];
  for (let index = 0; index < count; index += 1) {
    registrar.requestAsHost({ action: steps[index % steps.length] ?? 'start', actor: index % 7 === 3 ? 'agent:b' : 'agent:a', target: `s-${Math.floor(index / 4)}` });
  }
}
function registrarOn(store: AttestationStore): AudioRegistrar {
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  registrar.registerActor('agent:b');
  return registrar;
}
/** A segmented log of `count` records, closed. */
async function segmentedLog(count: number, durability: 'fsync' | 'group' = 'group'): Promise<{ path: string; exported: string }> {
  const path = tempLog();
  const { store } = AttestationStore.open(path, { durability, segmentBytes: SEGMENT_BYTES });
  const registrar = registrarOn(store);
  run(registrar, count);
  await registrar.close();
  return { path, exported: store.export() };
}
function caught(run: () => unknown): AttestationError | undefined {
  try {
    run();
  } catch (error) {
    return error as AttestationError;
  }
  return undefined;
}

describe('segmented attestation logs', () => {
  it.each(['fsync', 'group'] as const)('%s mode: rotates before a segment would pass segmentBytes; the chain and the manifest continue across segments', async (durability) => {
    const { path, exported } = await segmentedLog(120, durability);
    const manifest = readManifest(path);
    expect(manifest.segmentBytes).toBe(SEGMENT_BYTES);
    expect(manifest.segments.length).toBeGreaterThan(10);
    expect(readdirSync(path).sort()).toEqual([MANIFEST_FILE, ...manifest.segments.map((entry) => entry.name)].sort());
    const lines = exported.trimEnd().split('\n');
    let next = 0;
    let previousHash = GENESIS_HASH;
    for (const [index, entry] of manifest.segments.entries()) {
      const text = readFileSync(join(path, entry.name), 'utf8');
      const segmentLines = text.trimEnd().split('\n');
      expect(segmentLines).toEqual(lines.slice(next, next + segmentLines.length)); // byte for byte, in order
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SEGMENT_BYTES);
      const first = JSON.parse(segmentLines[0] ?? '') as { seq: number; prevHash: string };
      const last = JSON.parse(segmentLines.at(-1) ?? '') as { seq: number; hash: string };
      expect(first).toMatchObject({ seq: entry.firstSeq, prevHash: entry.firstPrevHash });
      expect(entry.firstPrevHash).toBe(previousHash); // each segment's first record links to the previous segment's last
      const active = index === manifest.segments.length - 1;
      expect(entry).toMatchObject(active ? { lastSeq: null, lastHash: null, bytes: null } : { lastSeq: last.seq, lastHash: last.hash, bytes: Buffer.byteLength(text) });
      next += segmentLines.length;
      previousHash = last.hash;
    }
    expect(next).toBe(120);
  });

  it('is read transparently from its path: open (reads back across segments), iterate, replay, verify and readAttestationLog', async () => {
    const { path, exported } = await segmentedLog(200);
    const { store, report } = AttestationStore.open(path, { memoryRecords: 10 });
    expect(report).toEqual({ records: 200, tornTail: null });
    expect(store.export()).toBe(exported); // 190 of them read back from sealed segments through the index
    expect(store.bySeq(1)?.seq).toBe(1);
    const registrar = AudioRegistrar.replay(store.records(), { store, core: new ReferenceCore() });
    run(registrar, 40); // keeps rotating with the size the manifest records
    await registrar.close();
    expect(readManifest(path).segmentBytes).toBe(SEGMENT_BYTES);
    const records = [...iterateAttestationLog(path)];
    expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 240 }, (_, index) => index + 1));
    expect(verify(iterateAttestationLog(path), { replay: true })).toMatchObject({ ok: true, records: 240 });
    const reopened = AudioRegistrar.openLog(path, { core: new ReferenceCore() });
    expect(reopened.registrar.stateHash()).toBe(AudioRegistrar.replay(records, { core: new ReferenceCore() }).stateHash());
    await reopened.registrar.close();
    expect(readAttestationLog(path).records).toHaveLength(240);
  });

  it('a missing segment is ATTESTATION_SEGMENT_MISSING naming its first seq, wherever the log is read', async () => {
    const { path } = await segmentedLog(120);
    const second = readManifest(path).segments[1]!;
    rmSync(join(path, second.name));
    for (const read of [() => AttestationStore.open(path), () => [...iterateAttestationLog(path)], () => AudioRegistrar.openLog(path)]) {
      expect(caught(read)).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISSING', seq: second.firstSeq });
    }
    expect(readAttestationLog(path).problem).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISSING', seq: second.firstSeq });
  });

  it('an extra segment file is ATTESTATION_SEGMENT_EXTRA naming its first seq', async () => {
    const { path } = await segmentedLog(120);
    const first = readManifest(path).segments[0]!;
    copyFileSync(join(path, first.name), segmentFile(path, 900));
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_SEGMENT_EXTRA', seq: first.firstSeq });
  });

  it('reordered segments (files swapped) and a truncated sealed segment are ATTESTATION_SEGMENT_MISMATCH', async () => {
    const { path } = await segmentedLog(120);
    const [a, b] = readManifest(path).segments;
    renameSync(join(path, a!.name), join(path, 'swap'));
    renameSync(join(path, b!.name), join(path, a!.name));
    renameSync(join(path, 'swap'), join(path, b!.name));
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISMATCH', seq: a!.firstSeq });
    const other = await segmentedLog(120);
    const third = readManifest(other.path).segments[2]!;
    truncateSync(join(other.path, third.name), (third.bytes ?? 0) - 1);
    expect(caught(() => [...iterateAttestationLog(other.path)])).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISMATCH', seq: third.firstSeq });
  });

  it('a sealed segment whose records are not the ones its manifest entry names is ATTESTATION_SEGMENT_MISMATCH (same size, other content)', async () => {
    const { path } = await segmentedLog(120);
    const entry = readManifest(path).segments[1]!;
    const file = join(path, entry.name);
    // Same bytes count, a later record's seq: the file is not the segment the manifest lists.
    writeFileSync(file, readFileSync(file, 'utf8').replace(`"seq":${entry.firstSeq},`, `"seq":${entry.firstSeq + 1},`.padEnd(`"seq":${entry.firstSeq},`.length)));
    expect(statSync(file).size).toBe(entry.bytes);
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISMATCH', seq: entry.firstSeq });
  });

  it("a sealed segment whose last record is not the manifest's (edited in place, same size) is ATTESTATION_SEGMENT_MISMATCH naming its last seq", async () => {
    const { path } = await segmentedLog(120);
    const entry = readManifest(path).segments[0]!;
    const file = join(path, entry.name);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const original = lines.at(-1)!;
    const hashAt = original.indexOf('"hash":"') + 8;
    const otherHash = `${original.slice(0, hashAt)}${'0'.repeat(64)}${original.slice(hashAt + 64)}`;
    lines[lines.length - 1] = otherHash; // a valid record, same size, another hash
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(statSync(file).size).toBe(entry.bytes);
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_SEGMENT_MISMATCH', seq: entry.lastSeq });
  });

  it('a manifest whose entries do not continue each other, or that is not JSON, is ATTESTATION_MANIFEST_INVALID', async () => {
    const { path } = await segmentedLog(120);
    const manifest = readManifest(path);
    const [a, b, ...rest] = manifest.segments;
    writeFileSync(join(path, MANIFEST_FILE), JSON.stringify({ ...manifest, segments: [b, a, ...rest] }));
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_MANIFEST_INVALID' });
    writeFileSync(join(path, MANIFEST_FILE), '{"kind":');
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_MANIFEST_INVALID' });
    // One larger than any manifest (a sparse file: nothing is read) is refused before it is read whole.
    truncateSync(join(path, MANIFEST_FILE), MAX_MANIFEST_BYTES + 1);
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_MANIFEST_INVALID', message: expect.stringMatching(/more than any manifest/) });
  });

  it('a rotation a crash interrupted (an empty next segment not yet listed, a manifest.json.tmp) opens cleanly; a torn tail in the active segment is cut with repairTornTail', async () => {
    const { path } = await segmentedLog(120);
    const manifest = readManifest(path);
    const active = manifest.segments.at(-1)!;
    const next = segmentFile(path, manifest.segments.length + 1);
    writeFileSync(next, '');
    writeFileSync(join(path, `${MANIFEST_FILE}.tmp`), '{"partial');
    const reopened = AttestationStore.open(path);
    expect(reopened.report.records).toBe(120);
    expect(existsSync(next)).toBe(false);
    expect(existsSync(join(path, `${MANIFEST_FILE}.tmp`))).toBe(false);
    await reopened.store.close();
    writeFileSync(join(path, active.name), `${readFileSync(join(path, active.name), 'utf8')}{"torn":`);
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_TORN_TAIL', seq: 121 });
    const repaired = AttestationStore.open(path, { repairTornTail: true });
    expect(repaired.report.tornTail).toMatchObject({ file: join(path, active.name), lengthBytes: 8 });
    await repaired.store.close();
    // A non-empty unlisted next segment is not a leftover: it is extra.
    writeFileSync(next, 'x\n');
    expect(caught(() => AttestationStore.open(path))).toMatchObject({ code: 'ATTESTATION_SEGMENT_EXTRA' });
  });

  it('a corrupt line in a segment is ATTESTATION_LOG_CORRUPT naming the seq it should have had', async () => {
    const { path } = await segmentedLog(120);
    const entry = readManifest(path).segments[2]!;
    const file = join(path, entry.name);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = 'not json'.padEnd(lines[1]!.length); // same size: the manifest's byte count still holds
    writeFileSync(file, lines.join('\n'));
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: entry.firstSeq + 1 });
  });

  it('segmentBytes is validated, and a single-file log cannot be opened as segmented', async () => {
    expect(() => AttestationStore.open(tempLog(), { segmentBytes: 100 })).toThrow(InputError);
    expect(() => AttestationStore.open(tempLog(), { segmentBytes: 100 })).toThrow(/options\.segmentBytes/);
    const single = tempLog();
    const { store } = AttestationStore.open(single);
    run(registrarOn(store), 4);
    await store.close();
    expect(() => DurableLog.open(single, { segmentBytes: SEGMENT_BYTES })).toThrow(expect.objectContaining({ field: 'options.segmentBytes' }));
  });
});
