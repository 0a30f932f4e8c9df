// The canonical-line scanner (line-scan.ts) lets verification skip JSON.parse and the record check
// for lines in the writer's own form. Its guarantee: whatever it accepts, the general path
// (JSON.parse, record check, zod) accepts too, with the same field values; so checkLines gives the
// same answer with and without it. Held on real lines a registrar writes, on random mutations of
// them (fast-check), and on planted lines each of which the scanner must refuse (a raw control
// character, an escape, a number JSON.parse makes infinite, an impossible date, upper-case hex, a
// trailing byte, an extension object nested too deep...) while the general path gives its usual verdict;
// and on every single-byte replacement, truncation, escape and non-ASCII insertion of a few lines;
// on bytes no writer writes (overlong or invalid UTF-8, a BOM, CR); and on extension objects in any
// key order and number form. The reference is the spec's verdict: JSON.parse, the record check and
// the hash over the canonical JSON (`hashing: 'canonical'`), which the general path must give too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { checkLines, RecordViews, type LinesChecked } from '../../src/attestation/line-check.js';
import { lineDigest } from '../../src/attestation/line-hash.js';
import { scanLine } from '../../src/attestation/line-scan.js';
import { scanCanonicalLine } from '../helpers/scanned-line.js';
import { isAttestationShape } from '../../src/attestation/record-check.js';
import { validRecordHash, type Attestation } from '../../src/attestation/record.js';
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
/**
 * checkLines with the scanner, and the spec's verdict (JSON.parse, the record check, the hash over
 * the canonical JSON: `canonical`), side by side; the general path of `line` hashing (no scanner)
 * must give the spec's verdict too.
 */
const both = (bytes: Buffer) => {
  const canonical = plain(checkLines(bytes, 'canonical'));
  expect(plain(checkLines(bytes, 'line', { scan: false }))).toEqual(canonical);
  return [plain(checkLines(bytes, 'line')), canonical];
};

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

  it('reads canonical metadata as JSON.parse does: number forms JSON.stringify writes, nesting at the limit', () => {
    const line = lines[1] as string; // metadata {}, parameters {}
    const accepted = [
      '{"observed":true}',
      '{"observed":"true"}',
      '{"compaction":{"removed":1}}',
      '{"a":{"compaction":1},"compaction":[1,0,100,1e+308,-12.5,1e+21,5e-7,-0.1,123456789012345680000]}',
      '{"a":{"b":[1,2]},"c":[[],[1,"x"]],"d":{}}',
      '{"10":1,"9":2,"A":3,"_":4,"a":5}',
    ];
    for (const metadata of accepted) {
      const text = sealed(line.replace('"metadata":{}', `"metadata":${metadata}`));
      const record = JSON.parse(text) as Attestation;
      expect(canonicalJson(record), metadata).toBe(text);
      const scanned = scanCanonicalLine(text);
      expect(scanned, metadata).not.toBeNull();
      expect(scanned?.observed, metadata).toBe(record.metadata.observed === true);
      expect(scanned?.compaction, metadata).toEqual(record.metadata.compaction);
      const [withScanner, without] = both(region([lines[0] as string, text]));
      expect(withScanner, metadata).toEqual(without);
    }
  });

  it('declines metadata and parameters in any other form (duplicate or unsorted keys, number forms JSON.stringify never writes): their hash over the line is not the spec\'s', () => {
    const line = lines[1] as string; // metadata {}, parameters {}
    const forms = [
      '{"observed":true,"observed":false}',
      '{"observed":false,"observed":true}',
      '{"compaction":{"removed":1},"compaction":{"removed":2}}',
      '{"b":1,"a":2}',
      '{"a":{"d":1,"c":2}}',
      '{"x":-0}',
      '{"x":1E+2}',
      '{"x":1e2}',
      '{"x":1e+2}',
      '{"x":1.0}',
      '{"x":0.50}',
      '{"x":1e308}',
      '{"x":0.5e-400}',
      '{"x":9007199254740993}',
      '{"x":[1,-0]}',
    ];
    for (const form of forms) {
      for (const field of ['metadata', 'parameters']) {
        const text = rehashed(line.replace(`"${field}":{}`, `"${field}":${form}`));
        expect(scanCanonicalLine(text), `${field} ${form}`).toBeNull();
        const [withScanner, canonical] = both(region([lines[0] as string, text]));
        expect(withScanner, `${field} ${form}`).toEqual(canonical);
        const checked = checkLines(region([text]), 'line');
        // A duplicate key is no record at all (duplicate-keys.ts); any other form is one whose hash is not the spec's.
        if (form.startsWith('{"observed":') || form.startsWith('{"compaction":')) expect(checked.failure, `${field} ${form}`).toMatch(/duplicate key/);
        else expect(new RecordViews(checked).next().hashHolds, `${field} ${form}`).toBe(false);
      }
    }
  });

  it('never changes what checkLines answers: random extension objects in any key order and number form, hashed over the line (fast-check)', () => {
    const line = lines[1] as string; // metadata {}, parameters {}
    const key = fc.constantFrom('a', 'b', 'observed', 'compaction', 'z', 'A', '_', '10', '9', '', '__proto__', 'constructor', 'toString');
    const numberText = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => value.toExponential()),
      fc.integer().map((value) => `${value}.0`),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
      fc.constantFrom('-0', '1E2', '1e2', '1e+2', '0.10', '100', '9007199254740993', '1e-7', '1e+21', '1e21'),
    );
    const valueText = fc.oneof(numberText, fc.constantFrom('true', 'null', '"s"', '[]', '{}', '[1,-0]', '{"b":1,"a":1}', '{"a":1,"b":1}'));
    const objectText = fc.array(fc.tuple(key, valueText), { maxLength: 5 }).map((members) => `{${members.map(([name, value]) => `"${name}":${value}`).join(',')}}`);
    let scanned = 0;
    let holds = 0;
    fc.assert(
      fc.property(objectText, fc.constantFrom('metadata', 'parameters'), fc.boolean(), (object, field, hashedOverBytes) => {
        const mutated = line.replace(`"${field}":{}`, `"${field}":${object}`);
        // A forger's hash over the bytes as they are, or the writer's over the canonical JSON.
        const text = hashedOverBytes ? rehashed(mutated) : sealed(mutated);
        if (scanCanonicalLine(text) !== null) scanned += 1;
        const [withScanner, canonical] = both(region([lines[0] as string, text]));
        expect(withScanner).toEqual(canonical);
        if (new RecordViews(checkLines(region([text]), 'line')).next().hashHolds) holds += 1;
      }),
      { numRuns: 1500 },
    );
    // Not vacuous: canonical objects take the scanner's path, and hashes hold.
    expect(scanned).toBeGreaterThan(50);
    expect(holds).toBeGreaterThan(50);
  });

  it('bytes the scanner never takes (overlong or invalid UTF-8, a BOM, CR, escapes of every kind) get the spec\'s verdict; a metadata member named hash does not confuse the hash member', () => {
    const line = lines[1] as string; // metadata {}, parameters {}
    const at = line.indexOf('"message":"') + '"message":"'.length;
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));
    const forms: Record<string, Buffer> = {
      'overlong "/" (C0 AF)': bytes(line.slice(0, at), [0xc0, 0xaf], line.slice(at)),
      'an encoded surrogate (ED A0 80)': bytes(line.slice(0, at), [0xed, 0xa0, 0x80], line.slice(at)),
      'a stray continuation byte': bytes(line.slice(0, at), [0x80], line.slice(at)),
      'a BOM first': bytes([0xef, 0xbb, 0xbf], line),
      'a CR last': bytes(line, '\r'),
      'a lone surrogate escape': bytes(line.slice(0, at), '\\ud800', line.slice(at)),
      'an escaped solidus': bytes(line.slice(0, at), '\\/', line.slice(at)),
      'a \\u escape of a plain letter': bytes(line.slice(0, at), '\\u0041', line.slice(at)),
      'U+2028 raw': bytes(line.slice(0, at), '\u2028', line.slice(at)),
    };
    for (const [what, form] of Object.entries(forms)) {
      for (const hashedOverBytes of [true, false]) {
        let text = form.toString('latin1'); // byte for byte
        const body = Buffer.from(text, 'latin1');
        const digest = lineDigest(body, 0, body.length);
        if (hashedOverBytes && digest !== null) text = text.replace(/,"hash":"[0-9a-f]{64}"/, `,"hash":"${digest}"`);
        const lineBytes = Buffer.from(text, 'latin1');
        expect(scanLine(lineBytes, 0, lineBytes.length), what).toBeNull();
        const [withScanner, canonical] = both(Buffer.concat([Buffer.from(`${lines[0] as string}\n`), lineBytes, Buffer.from('\n')]));
        expect(withScanner, what).toEqual(canonical);
      }
    }
    // A metadata member named hash, with 64 hex digits: canonical, read by the scanner; the record's own hash member is the one cut out.
    const decoy = sealed(line.replace('"metadata":{}', `"metadata":{"hash":"${'a'.repeat(64)}"}`));
    expect(scanCanonicalLine(decoy)).not.toBeNull();
    const [withScanner, canonical] = both(region([lines[0] as string, decoy]));
    expect(withScanner).toEqual(canonical);
    expect(new RecordViews(checkLines(region([decoy]), 'line')).next().hashHolds).toBe(true);
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
      'a __proto__ key in metadata': line.replace(`"metadata":{}`, `"metadata":{"__proto__":{"observed":true}}`),
      'a __proto__ key nested in parameters': line.replace(`"parameters":{}`, `"parameters":{"a":[{"__proto__":1}]}`),
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
    // A __proto__ key is bytes a parsed copy would drop (zod's record skips it): never a record, on either path.
    for (const key of ['a __proto__ key in metadata', 'a __proto__ key nested in parameters']) {
      for (const scan of [true, false]) expect(plain(checkLines(region([rehashed(text(planted, key))]), 'line', { scan })).failure, key).toMatch(/not a valid record: (metadata|parameters)\..*__proto__/);
    }
  });
});

/** `line` with its hash member set to the digest of its other bytes (unchanged when it has no hash member). */
function rehashed(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  const digest = lineDigest(bytes, 0, bytes.length);
  return digest === null ? line : line.replace(/,"hash":"[0-9a-f]{64}"/, `,"hash":"${digest}"`);
}

/** `line` parsed and written again as the writer writes it (canonical JSON) with its hash recomputed over that: a record as sealed. */
function sealed(line: string): string {
  const record = JSON.parse(line) as Attestation;
  return canonicalJson({ ...record, hash: validRecordHash(record) });
}

function text(planted: Record<string, string>, key: string): string {
  return planted[key] as string;
}
