// The canonical form of a record is frozen: logs written by earlier builds must keep verifying.
// These tests pin it byte for byte. fixtures/pinned-log.jsonl was written (fsync mode, reference
// core) by the registrar of commit 08b3045, before the hot-path work; it covers allowed, denied,
// invalid and observed requests, overrides, a transfer, a created stream, unicode and escapes,
// nested metadata and numbers such as -0 and 1e21.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/attestation/canonical-json.js';
import { readAttestationLog } from '../../src/attestation/durable-log.js';
import { GENESIS_HASH, recordHash, sealRecord, type AttestationBody } from '../../src/attestation/record.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { verify } from '../../src/registrar/verify.js';

const LOG_PATH = fileURLToPath(new URL('./fixtures/pinned-log.jsonl', import.meta.url));
const LOG_LAST_HASH = '39b15b9f356530d0b822a30d6877e3f726630331a8a18e2919a0c6b475a3c7a6';
/** stateHash() of the log's replayed state. The state image gained session memberships (issue 8):
 *  without them it hashes to ee23f06d…cfa1c2, the hash of the registrar that wrote the log. The log
 *  predates memberships, so it replays with `legacyRules`: its enable_override (seq 6), which states
 *  no membership, is read as a declared one (membership.ts). */
const LOG_STATE_HASH = 'e6d0e73a7a0a3ac5f22344d8241f7c86bb63bc2d8280c3209dbfa1064a618130';

/** A body exercising every field type, escapes and non-ASCII text. */
const BODY: AttestationBody = {
  v: '2.9.0',
  seq: 7,
  id: '00000000-0000-4000-8000-000000000007',
  timestamp: { wall: '2026-11-20T23:00:00.123Z', monotonicNs: '123456789012' },
  actor: { id: 'ålice "q"', kind: 'user' },
  action: 'interrupt',
  target: 's\\1',
  decision: 'denied',
  reason: 'not_owner',
  message: 'line\nbreak\u2028 ☃ \u0001',
  invariants: ['audio.actor.registered', 'audio.ownership.required_for_control'],
  violations: [{ invariant: 'audio.ownership.required_for_control', level: 'REJECT', message: 'no' }],
  accessibility: true,
  parent: null,
  stateBefore: 'playing',
  stateAfter: null,
  version: 3,
  parameters: { reason: 'why', metadata: { z: [1, -0, 2.5, 1e21, null, true, { b: 'x', a: 'y' }], a: {} } },
  metadata: { observed: true, preemptFor: null },
};
const BODY_TEXT =
  '{"accessibility":true,"action":"interrupt","actor":{"id":"ålice \\"q\\"","kind":"user"},"decision":"denied",' +
  '"id":"00000000-0000-4000-8000-000000000007","invariants":["audio.actor.registered","audio.ownership.required_for_control"],' +
  '"message":"line\\nbreak\u2028 ☃ \\u0001","metadata":{"observed":true,"preemptFor":null},' +
  '"parameters":{"metadata":{"a":{},"z":[1,0,2.5,1e+21,null,true,{"a":"y","b":"x"}]},"reason":"why"},"parent":null,' +
  `"prevHash":"${GENESIS_HASH}","reason":"not_owner","seq":7,"stateAfter":null,"stateBefore":"playing","target":"s\\\\1",` +
  '"timestamp":{"monotonicNs":"123456789012","wall":"2026-11-20T23:00:00.123Z"},"v":"2.9.0","version":3,' +
  '"violations":[{"invariant":"audio.ownership.required_for_control","level":"REJECT","message":"no"}]}';
const BODY_HASH = '85535937c85f305315d30967bf139fa12eab1626b60c611197ce6dbb7e93ed8d';

describe('pinned canonical form', () => {
  it('a known body serialises and hashes exactly as before', () => {
    expect(canonicalJson({ ...BODY, prevHash: GENESIS_HASH })).toBe(BODY_TEXT);
    expect(sha256Hex(BODY_TEXT)).toBe(BODY_HASH);
    const sealed = sealRecord(BODY, GENESIS_HASH);
    expect(sealed.hash).toBe(BODY_HASH);
    expect(recordHash(sealed)).toBe(BODY_HASH);
  });

  it('every line of the pinned log re-serialises byte for byte and its chain still links', () => {
    const lines = readFileSync(LOG_PATH, 'utf8').trimEnd().split('\n');
    const readout = readAttestationLog(LOG_PATH);
    expect(readout).toMatchObject({ tornTail: null, problem: null });
    expect(readout.records).toHaveLength(lines.length);
    readout.records.forEach((record, index) => expect(canonicalJson(record)).toBe(lines[index]));
    expect(readout.records.at(-1)?.hash).toBe(LOG_LAST_HASH);
    const store = new AttestationStore();
    store.adopt(readout.records);
    expect(store.lastHash).toBe(LOG_LAST_HASH);
    expect(store.export()).toBe(`${lines.join('\n')}\n`);
  });

  it('the pinned log verifies and replays (as a log older than the rules) on both cores to the same state', async () => {
    const records = readAttestationLog(LOG_PATH).records;
    expect(verify(records)).toMatchObject({ ok: true, errors: [] });
    // Its enable_override states no membership: replayed as a current log, that is a mismatch.
    expect(verify(records, { replay: true })).toMatchObject({ ok: false, errors: [{ seq: 6, invariant: 'ordering.deterministic', message: expect.stringContaining('metadata.membership is missing') }] });
    expect(() => AudioRegistrar.replay(records)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: 6 }));
    // Written before compaction existed: seq 1 states no policy, so a core passed in must not compact.
    const reference = AudioRegistrar.replay(records, { core: new ReferenceCore({ compaction: false }), legacyRules: true });
    const native = AudioRegistrar.replay(records, { core: NativeCore.create({ compaction: false }), legacyRules: true });
    expect(AudioRegistrar.replay(records, { legacyRules: true }).stateHash()).toBe(LOG_STATE_HASH); // and by default
    expect(reference.stateHash()).toBe(LOG_STATE_HASH);
    expect(native.stateHash()).toBe(LOG_STATE_HASH);
    await native.close();
    expect(reference.attestationStore.lastHash).toBe(LOG_LAST_HASH);
    expect(reference.getState('s1')).toMatchObject({ state: 'playing', owner: 'agent:other' });
  });
});
