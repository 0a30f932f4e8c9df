/**
 * What signed checkpoints cost, against baselines measured in the same run:
 *   1. request() on a durable log in group mode, without signing vs with signing (a checkpoint
 *      every 1,000 records): the request path only notes a 4-byte digest; p50/p99 and ratio;
 *   2. one checkpoint: the Ed25519 signature of a 1,000-record checkpoint (sign) and checking it
 *      (verify);
 *   3. verifyLog over a log of RECORDS records: chain only vs chain + checkpoints (records/s).
 * Run: node --import tsx bench/checkpoint.bench.ts [records]   (default 100,000)
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure as measureLatency, us, type Stats } from './latency.js';
import { checkpointSignatureValid, signCheckpoint } from '../src/attestation/checkpoint.js';
import { loadSigningKey, loadVerifyingKey } from '../src/attestation/signing.js';
import { AttestationStore } from '../src/attestation/store.js';
import { verifyLog } from '../src/attestation/verify-log.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';

const RECORDS = Number(process.argv[2] ?? 100_000);
const BENCH_TIME_MS = 500;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const dir = mkdtempSync(join(tmpdir(), 'checkpoint-bench-'));

const measure = (tasks: Record<string, () => unknown>, timeMs = BENCH_TIME_MS) => measureLatency(tasks, timeMs);

/** A registrar on a group-commit log; each request compiles one stream again (allowed, no growth). */
function registrarOn(path: string, signed: boolean): { registrar: AudioRegistrar; request: () => void } {
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 2, ...(signed ? { signing: { privateKey, everyRecords: 1_000, everyMs: 5_000 } } : {}) });
  const registrar = new AudioRegistrar({ store });
  const agent = registrar.registerActor('agent:bench');
  registrar.request({ action: 'start', actor: agent, target: 's1' });
  return { registrar, request: () => void registrar.request({ action: 'compile', actor: agent, target: 's1', metadata: { graphHash: 'g' } }) };
}

try {
  // 1. The request path.
  const plain = registrarOn(join(dir, 'plain.jsonl'), false);
  const signed = registrarOn(join(dir, 'signed.jsonl'), true);
  const requests = await measure({ 'request, unsigned log': plain.request, 'request, signed log': signed.request });
  await Promise.all([plain.registrar.close(), signed.registrar.close()]);
  const base = requests['request, unsigned log'] as Stats;
  const withSigning = requests['request, signed log'] as Stats;
  console.log('request() on a group-commit log (checkpoint every 1,000 records, off the request path)');
  console.log(`  unsigned  p50 ${us(base.p50Us)}  p99 ${us(base.p99Us)}`);
  console.log(`  signed    p50 ${us(withSigning.p50Us)}  p99 ${us(withSigning.p99Us)}  (ratio signed/unsigned p50 ${(withSigning.p50Us / base.p50Us).toFixed(2)}, p99 ${(withSigning.p99Us / base.p99Us).toFixed(2)})`);

  // 2. One checkpoint's signature.
  const key = loadSigningKey({ privateKey }, 'key');
  const verifying = loadVerifyingKey(publicKey, 'key');
  const fields = { seq: 1_000, fromSeq: 1, count: 1_000, headHash: 'a'.repeat(64), digests: Buffer.alloc(4_000, 7), time: new Date().toISOString() };
  const checkpoint = signCheckpoint(key, fields);
  const signing = await measure({ sign: () => signCheckpoint(key, fields), verify: () => checkpointSignatureValid(verifying, checkpoint) });
  console.log('one checkpoint of 1,000 records (Ed25519, node:crypto)');
  for (const [name, stats] of Object.entries(signing)) console.log(`  ${name.padEnd(6)}  p50 ${us(stats.p50Us)}  p99 ${us(stats.p99Us)}`);

  // 3. verifyLog, chain only vs with checkpoints.
  const path = join(dir, 'long.jsonl');
  const long = registrarOn(path, true);
  for (let index = 1; index < RECORDS; index += 1) long.request();
  await long.registrar.close();
  const timed = (label: string, run: () => { ok: boolean; records: number }): void => {
    const started = process.hrtime.bigint();
    const report = run();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!report.ok) throw new Error(`${label}: the log did not verify`);
    console.log(`  ${label.padEnd(22)} ${(report.records / seconds).toFixed(0).padStart(8)} records/s  (${report.records} records, ${seconds.toFixed(2)} s)`);
  };
  console.log(`verifyLog over ${RECORDS} records`);
  timed('chain only', () => verifyLog(path));
  timed('chain + checkpoints', () => verifyLog(path, { publicKey }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
