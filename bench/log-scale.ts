/**
 * `npm run bench:log-scale`: do verify, replay and open of a long attestation log stream it?
 *
 * For each size (default 10^5 and 10^6 records) it writes a real log in a temp dir (a registrar on
 * the default core making utterance lifecycles: start, synthesize, play, stop, plus a denied
 * interrupt every 25 requests; group commit; the 10^6 log segmented at 256 MiB), then runs, each
 * in its own child process so that its peak RSS is its own:
 *   - verify:         verify(iterateAttestationLog(path))              (the hash chain, structural invariants)
 *   - verify+replay:  verify(iterateAttestationLog(path), { replay })  (`audit verify --replay`)
 *   - replay:         AudioRegistrar.replay(iterateAttestationLog(path)) into a windowed store (`audit replay`)
 *   - open:           AudioRegistrar.openLog(path)                     (restart: scan + replay, ready to append)
 * and prints records/s (by wall time, and by the child's CPU time, which a busy machine does not
 * inflate) and the child's peak RSS (getrusage maxRSS) for each, beside the RSS of a child that
 * only starts (the baseline). Children run with V8's old space capped (HEAP_CAP_MB). Goals (issue 8): verify ≥ 200,000 records/s; peak RSS
 * independent of the log's length (the 10^6 rows within a few MB of the 10^5 rows).
 * The logs are deleted at the end.
 *
 *   node --import tsx bench/log-scale.ts [sizes=100000,1000000]
 *   node --import tsx bench/log-scale.ts --child <verify|verify-replay|replay|open|baseline> <path>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iterateAttestationLog } from '../src/attestation/log-reader.js';
import { AttestationStore } from '../src/attestation/store.js';
import { createDefaultCore } from '../src/registrar/default-core.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';
import type { RegistrarResult } from '../src/registrar/types.js';
import { verify } from '../src/registrar/verify.js';

const MODES = ['baseline', 'verify', 'verify-replay', 'replay', 'open'] as const;
type Mode = (typeof MODES)[number];
const SEGMENT_BYTES = 256 * 1024 * 1024;
/**
 * Each child's V8 old space is capped: an operation that held the log (10^6 records are ~1.1 GiB
 * of text, several GiB as objects) cannot finish under it, and the peak RSS shows what bounded live
 * memory costs rather than how lazily V8 collects garbage in a longer run.
 */
const HEAP_CAP_MB = 128;
const SCRIPT = fileURLToPath(import.meta.url);

interface ChildReport {
  records: number;
  seconds: number;
  /** CPU time (user + system) of the operation: on a busy machine, wall time includes waiting for a core. */
  cpuSeconds: number;
  maxRssMb: number;
  ok: boolean;
}

/** Runs one measurement in this (child) process and prints its report as JSON. */
async function child(mode: Mode, path: string): Promise<void> {
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let records = 0;
  let ok = true;
  if (mode === 'verify' || mode === 'verify-replay') {
    const report = verify(iterateAttestationLog(path), { replay: mode === 'verify-replay' });
    records = report.records;
    ok = report.ok;
    if (!ok) console.error(JSON.stringify(report.errors.slice(0, 3)));
  } else if (mode === 'replay') {
    const registrar = AudioRegistrar.replay(iterateAttestationLog(path), { store: new AttestationStore({ retain: 'window', memoryRecords: 1024 }) });
    records = registrar.attestationStore.lastSeq;
    await registrar.close();
  } else if (mode === 'open') {
    const { registrar, report } = AudioRegistrar.openLog(path, { durability: 'group' });
    records = report.records;
    await registrar.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const report: ChildReport = { records, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024, ok };
  console.log(JSON.stringify(report));
}

/** Writes a log of `records` requests with a real registrar; returns its size in bytes. */
async function generate(path: string, records: number): Promise<number> {
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 1000, ...(records >= 1_000_000 ? { segmentBytes: SEGMENT_BYTES } : {}) });
  const registrar = new AudioRegistrar({ store, core: createDefaultCore() });
  const agent = registrar.registerActor('agent:bench');
  const other = registrar.registerActor('agent:other');
  const runtime = registrar.registerActor('system:runtime');
  let stream: string | null = null;
  let step = 0;
  for (let done = 0; done < records; done += 1) {
    if (done % 25 === 24 && stream !== null) {
      registrar.request({ action: 'interrupt', actor: other, target: stream }); // denied: not_owner
    } else {
      const action = (['start', 'synthesize', 'play', 'stop'] as const)[step % 4] ?? 'start';
      const result: RegistrarResult = action === 'start' ? registrar.request({ action, actor: agent }) : registrar.request({ action, actor: runtime, target: stream });
      if (action === 'start') stream = result.streamId;
      step += 1;
    }
    if (done % 4096 === 4095) await registrar.flush();
  }
  await registrar.close();
  const stats = statSync(path);
  return stats.isDirectory() ? readdirSync(path).reduce((sum, name) => sum + statSync(join(path, name)).size, 0) : stats.size;
}

function measure(mode: Mode, path: string): ChildReport {
  const output = execFileSync(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', SCRIPT, '--child', mode, path], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as ChildReport;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await child(args[1] as Mode, args[2] ?? '');
    return;
  }
  const sizes = (args[0] ?? '100000,1000000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'vs-log-scale-'));
  try {
    const baseline = measure('baseline', join(dir, 'none'));
    console.log(`attestation log at scale: each row in its own child process (V8 old space capped at ${HEAP_CAP_MB} MB); baseline child (starts, reads nothing): peak RSS ${baseline.maxRssMb.toFixed(0)} MB`);
    console.log('goals: verify >= 200,000 records/s; peak RSS independent of the log length\n');
    const rows: string[][] = [['records', 'log', 'operation', 'records/s (wall)', 'records/s (CPU)', 'wall s', 'CPU s', 'peak RSS', 'RSS - baseline']];
    for (const size of sizes) {
      const path = join(dir, `log-${size}${size >= 1_000_000 ? '' : '.jsonl'}`);
      const generatedAt = process.hrtime.bigint();
      const bytes = await generate(path, size);
      console.log(`generated ${size} records (${(bytes / 2 ** 20).toFixed(0)} MiB${size >= 1_000_000 ? `, segments of ${SEGMENT_BYTES / 2 ** 20} MiB` : ''}) in ${(Number(process.hrtime.bigint() - generatedAt) / 1e9).toFixed(1)} s`);
      for (const mode of MODES.slice(1)) {
        const report = measure(mode, path);
        if (!report.ok || report.records !== size) throw new Error(`${mode} of ${size} records: ${JSON.stringify(report)}`);
        const rate = (seconds: number) => Math.round(report.records / seconds).toLocaleString('en-US');
        rows.push([String(size), `${(bytes / 2 ** 20).toFixed(0)} MiB`, mode, rate(report.seconds), rate(report.cpuSeconds), report.seconds.toFixed(2), report.cpuSeconds.toFixed(2), `${report.maxRssMb.toFixed(0)} MB`, `${(report.maxRssMb - baseline.maxRssMb).toFixed(0)} MB`]);
      }
      rmSync(path, { recursive: true, force: true });
    }
    const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
    console.log('');
    for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
