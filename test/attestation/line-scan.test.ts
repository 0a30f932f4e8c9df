// The canonical-line scanner (line-scan.ts) lets verification skip JSON.parse and the record check
// for lines in the writer's own form. Its guarantee: whatever it accepts, the general path
// (JSON.parse, record check, zod) accepts too, with the same field values; so checkLines gives the
// same answer with and without it. Held on real lines a registrar writes, on random mutations of
// them (fast-check), and on planted lines each of which the scanner must refuse (a raw control
// character, an escape, a number JSON.parse makes infinite, an impossible date, upper-case hex, a
// trailing byte, an extension object nested too deep...) while the general path gives its usual verdict;
// and on every single-byte replacement, truncation, escape and non-ASCII insertion of a few lines.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { checkLines, RecordViews, type LinesChecked } from '../../src/attestation/line-check.js';
import { lineDigest } from '../../src/attestation/line-hash.js';
import { scanCanonicalLine } from '../helpers/scanned-line.js';
import { isAttestationShape } from '../../src/attestation/record-check.js';
import type { Attestation } from '../../src/attestation/record.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

/** Lines a registrar really writes: lifecycles, denials, overrides, escapes and non-ASCII, a malformed request. */
function realLines(): string[] {
  const registrar = new AudioRegistrar({ core: new ReferenceCore() });
  for (const actor of ['agent:a', 'agent:b', 'user:alice', 'system:runtime']) registrar.registerActor(actor);
  const stream = registrar.requestAsHost({ action: 'start', actor: 'agent:a', metadata: { sessionId: 'den', priority: 'background' } }).streamId;
  registrar.requestAsHost({ action: 'synthesize', actor: 'system:runtime', target: stream });
  registrar.requestAsHost({ action: 'play', actor: 'system:runtime', target: stream });
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:b', target: stream });
  registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.8 } });
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:a', target: stream, reason: 'because "quoted" \n héllo 😀' });
  registrar.requestAsHost({ action: 'start', actor: 'agent:a', metadata: { note: 'plain', n: 1.5e3, ok: true, nothing: null } });
  registrar.requestAsHost({ action: 'explode', actor: 'agent:a' });
  registrar.requestAsHost({ action: 'stop', actor: 'agent:a', target: 'no-such-stream' });
  return registrar.attestationStore.all().map((record) => canonicalJson(record));
}

const lines = realLines();
const region = (text: string[]): Buffer => Buffer.from(text.map((line) => `${line}\n`).join(''), 'utf8');
const plain = (checked: LinesChecked) => ({ ...checked, numbers: Array.from(checked.numbers), text: Buffer.from(checked.text).toString('latin1') });
/** checkLines with the scanner and without it, side by side. */
const both = (bytes: Buffer) => [plain(checkLines(bytes, 'line')), plain(checkLines(bytes, 'line', { scan: false }))];

describe('canonical line scanner', () => {
  it('reads the lines the writer writes with the values JSON.parse gives, and takes most of them', () => {
    let accepted = 0;
    for (const line of lines) {
      const scanned = scanCanonicalLine(line);
      if (scanned === null) continue;
      accepted += 1;
      const record = JSON.parse(line) as Attestation;
      expect(isAttestationShape(record)).toBe(true);
      const { seq, id, target, action, parent, stateBefore, stateAfter, version, hash, prevHash, accessibility } = record;
      expect(scanned).toMatchObject({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash, prevHash, accessibility, allowed: record.decision === 'allowed' });
      expect(scanned.observed).toBe(record.metadata.observed === true);
      expect(scanned.compaction).toEqual(record.metadata.compaction);
    }
    // All but the two with escapes (the quoted reason, the invalid request's message).
    expect(accepted).toBe(lines.length - 2);
    const [withScanner, without] = both(region(lines));
    expect(withScanner).toEqual(without);
    expect(withScanner?.failure).toBeNull();
  });

  it('hands out views whose fields are the records\' own, ASCII or not (each field a substring of its record\'s decoded fields)', () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 'plain' });
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 'flux-é-😀' });
    registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 'flux-é-😀' });
    registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 'plain' });
    const records = registrar.attestationStore.all();
    for (const scan of [true, false]) {
      const views = new RecordViews(checkLines(region(records.map((record) => canonicalJson(record))), 'line', { scan }));
      expect(views.count).toBe(records.length);
      for (const record of records) {
        const { seq, id, target, action, parent, stateBefore, stateAfter, version, hash } = record;
        expect(views.next()).toMatchObject({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash, hashHolds: true });
      }
    }
  });

  it("hands out the records' fields where neighbours differ in one character (a string is handed out again only for the same characters)", () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    registrar.registerActor('agent:b');
    registrar.registerActor('system:runtime');
    // Streams whose ids differ in their last character, moved in turn: targets, parents (ids .1, .2 ...), actions and states of equal lengths side by side.
    for (const target of ['stream-a', 'stream-b', 'stream-c']) registrar.requestAsHost({ action: 'start', actor: 'agent:a', target });
    for (const action of ['synthesize', 'play', 'stop'] as const) {
      for (const target of ['stream-a', 'stream-b', 'stream-c']) {
        registrar.requestAsHost({ action, actor: 'system:runtime', target });
        registrar.requestAsHost({ action: 'interrupt', actor: 'agent:b', target }); // denied: another actor's stream
      }
    }
    const records = registrar.attestationStore.all();
    for (const scan of [true, false]) {
      const views = new RecordViews(checkLines(region(records.map((record) => canonicalJson(record))), 'line', { scan }));
      const seen = records.map(() => views.next());
      expect(seen.map(({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash }) => ({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash }))).toEqual(
        records.map(({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash }) => ({ seq, id, target, action, parent, stateBefore, stateAfter, version, hash })),
      );
    }
  });

  it('never changes what checkLines answers: random mutations of real lines (fast-check)', () => {
    let scanned = 0;
    const alphabet = fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '0', '9', 'a', 'F', 'e', '-', '.', ' ', '\t', '\u0001', 'é', '😀', 'null', 'true', '1e999', '"x"');
    fc.assert(
      fc.property(fc.nat(lines.length - 1), fc.nat(4000), fc.nat(40), alphabet, fc.constantFrom('replace', 'insert', 'delete'), (lineIndex, position, span, piece, how) => {
        const line = lines[lineIndex] as string;
        const at = position % line.length;
        const mutated = how === 'insert' ? line.slice(0, at) + piece + line.slice(at) : how === 'delete' ? line.slice(0, at) + line.slice(at + 1 + span) : line.slice(0, at) + piece + line.slice(at + piece.length);
        // Re-hashed as a forger would, so the scanner's path (taken only when the hash covers the bytes) is what is compared.
        const forged = rehashed(mutated);
        if (scanCanonicalLine(forged) !== null) scanned += 1;
        const [withScanner, without] = both(region([...lines.slice(0, lineIndex), forged, ...lines.slice(lineIndex + 1)]));
        expect(withScanner).toEqual(without);
      }),
      { numRuns: 1500 },
    );
    // The comparison is not vacuous: many mutated lines are still in the writer's form and take the scanner's path.
    expect(scanned).toBeGreaterThan(100);
  });

  it('never changes what checkLines answers: every byte of a few lines replaced, every truncation, escapes and non-ASCII at every place', () => {
    // A start with compaction metadata, a denial with violations, an override with a float in its metadata.
    const chosen = [0, 3, 4].map((index) => lines[index] as string);
    const mutations: [original: string, mutated: string][] = [];
    for (const line of chosen) {
      const add = (mutated: string) => mutations.push([line, mutated]);
      const bytes = Buffer.from(line, 'latin1'); // these lines are ASCII
      for (let at = 0; at < bytes.length; at += 1) {
        for (const replacement of [0x22, 0x5c, 0x01, 0x30, 0x61, 0x7d]) {
          if (bytes[at] === replacement) continue;
          const mutated = Buffer.from(bytes);
          mutated[at] = replacement;
          add(mutated.toString('latin1'));
        }
        add(line.slice(0, at));
        add(`${line.slice(0, at)}é${line.slice(at)}`);
        add(`${line.slice(0, at)}😀${line.slice(at + 1)}`);
        // The same character as an escape: JSON.parse reads the same value, the scanner must decline it.
        if (/[A-Za-z0-9 :.-]/.test(line[at] as string)) add(`${line.slice(0, at)}\\u00${line.charCodeAt(at).toString(16)}${line.slice(at + 1)}`);
      }
    }
    const differing: string[] = [];
    let scanned = 0;
    for (const [original, mutation] of mutations) {
      const forged = rehashed(mutation);
      scanCanonicalLine(original); // as in a log, where the line's unmutated kind came before: its invariants array is one the scanner knows
      if (scanCanonicalLine(forged) !== null) scanned += 1;
      const [withScanner, without] = both(region([forged]));
      if (JSON.stringify(withScanner) !== JSON.stringify(without)) differing.push(forged);
    }
    expect(differing.slice(0, 3)).toEqual([]);
    // Not vacuous: mutations the scanner still accepts (a letter in a string, a digit in a number) go its way.
    expect(scanned).toBeGreaterThan(1000);
  });

  it('reads metadata as JSON.parse does: duplicate keys (the last wins), number forms, nesting at the limit', () => {
    const line = lines[1] as string; // metadata {}, parameters {}
    const accepted = [
      '{"observed":true}',
      '{"observed":true,"observed":false}',
      '{"observed":false,"observed":true}',
      '{"observed":"true"}',
      '{"compaction":{"removed":1},"compaction":{"removed":2}}',
      '{"a":{"compaction":1},"compaction":[1,-0,1E+2,0.5e-400,1e308,-12.5]}',
      '{"a":{"b":[1,2]},"c":[[],[1,"x"]],"d":{}}',
    ];
    for (const metadata of accepted) {
      const text = rehashed(line.replace('"metadata":{}', `"metadata":${metadata}`));
      const record = JSON.parse(text) as Attestation;
      const scanned = scanCanonicalLine(text);
      expect(scanned, metadata).not.toBeNull();
      expect(scanned?.observed, metadata).toBe(record.metadata.observed === true);
      expect(scanned?.compaction, metadata).toEqual(record.metadata.compaction);
      const [withScanner, without] = both(region([lines[0] as string, text]));
      expect(withScanner, metadata).toEqual(without);
    }
  });

  it('refuses each planted line that the general path must judge, and the verdict is the general one', () => {
    const line = lines[1] as string; // a synthesize record: metadata {}, parameters {}
    const record = JSON.parse(line) as Attestation;
    const planted: Record<string, string> = {
      'raw control character in a string': line.replace(`"message":"`, `"message":"\u0001`),
      'escape in a string': line.replace(`"message":"`, `"message":"\\u0041`),
      'number JSON.parse makes infinite': line.replace(`"parameters":{}`, `"parameters":{"x":1e999}`),
      'impossible date': line.replace(record.timestamp.wall, '2026-02-30T00:00:00.000Z'),
      'upper-case hex in prevHash': line.replace(record.prevHash, record.prevHash.toUpperCase()),
      'trailing byte': `${line} `,
      'extension object nested four deep': line.replace(`"parameters":{}`, `"parameters":{"a":{"b":{"c":{"d":1}}}}`),
      'seq with a leading zero': line.replace(`"seq":${record.seq}`, `"seq":0${record.seq}`),
      'empty id': line.replace(`"id":"${record.id}"`, `"id":""`),
      'unknown field': line.replace(`"v":`, `"w":1,"v":`),
      'number overflowing a double in metadata': line.replace(`"metadata":{}`, `"metadata":{"x":[1,${'9'.repeat(400)}]}`),
      'seq of 16 digits': line.replace(`"seq":${record.seq}`, `"seq":1${'0'.repeat(15)}`),
      'number with a bare dot': line.replace(`"parameters":{}`, `"parameters":{"x":1.}`),
      'wall time of 23 characters': line.replace(record.timestamp.wall, record.timestamp.wall.slice(1)),
      'empty monotonic time': line.replace(`"monotonicNs":"${record.timestamp.monotonicNs}"`, `"monotonicNs":""`),
      'invariants array with a control character': line.replace(`"invariants":["a`, `"invariants":["\u0001`),
    };
    for (const [what, plantedLine] of Object.entries(planted)) {
      const text = rehashed(plantedLine);
      expect(scanCanonicalLine(text), what).toBeNull();
      const [withScanner, without] = both(region([lines[0] as string, text]));
      expect(withScanner, what).toEqual(without);
    }
    // The general path still tells them apart: invalid ones fail the read, the rest fail the hash.
    expect(plain(checkLines(region([text(planted, 'raw control character in a string')]), 'line')).failure).toMatch(/not JSON/);
    expect(plain(checkLines(region([text(planted, 'unknown field')]), 'line')).failure).toMatch(/not a valid record/);
  });
});

/** `line` with its hash member set to the digest of its other bytes (unchanged when it has no hash member). */
function rehashed(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  const digest = lineDigest(bytes, 0, bytes.length);
  return digest === null ? line : line.replace(/,"hash":"[0-9a-f]{64}"/, `,"hash":"${digest}"`);
}

function text(planted: Record<string, string>, key: string): string {
  return planted[key] as string;
}
