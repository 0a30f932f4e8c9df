/**
 * `npm run bench:log-scale`: do verify, replay and open of a long attestation log stream it, and
 * how fast is verify?
 *
 * For each size (default 10^5 and 10^6 records) it writes a real log in a temp dir (a registrar on
 * the default core making utterance lifecycles: start, synthesize, play, stop, plus a denied
 * interrupt every 25 requests; group commit; the 10^6 log segmented at 256 MiB), then runs, each
 * in its own child process so that its peak RSS is its own:
 *   - chain (before):   verifyLog(path, { hashing: 'canonical', checkWorkers: 0 })  the hash chain, each hash recomputed over the record's canonical JSON, one thread
 *   - chain:            verifyLog(path)                                           the hash chain, hashes checked on the lines' bytes, lines checked on workers (64 MiB and up)
 *                       (every default row reads lines in the writer's canonical form with a hand-written scanner, line-scan.ts, and any other line with JSON.parse)
 *   - verify (before):  verify(records of iterateAttestationLog(path, { hashing: 'canonical' }))  chain + structural invariants over parsed, frozen records, canonical hashes, one thread: the path before line hashing and workers
 *   - verify 1 thread:  verify(iterateAttestationLog(path, { checkWorkers: 0 }))   chain + structural, line hashes, one thread
 *   - verify:           verify(iterateAttestationLog(path))         chain + structural, line hashes, lines checked on workers and this thread (default for 64 MiB and up: cores - 1 workers)
 *   - verify+replay:    verify(iterateAttestationLog(path), { replay })           (`audit verify --replay`)
 *   - replay:           AudioRegistrar.replay(iterateAttestationLog(path)) into a windowed store (`audit replay`)
 *   - open:             AudioRegistrar.openLog(path)                              (restart: scan + replay, ready to append)
 * and prints records/s (by wall time, and by the child's CPU time summed over its threads, which a
 * busy machine inflates less), the CPU time of the child's main thread per record (Linux; on a
 * shared machine the figure that says what a free core would give), the speed-up of each row over
 * its `(before)` row measured in the same run, and the child's peak RSS (getrusage maxRSS) beside
 * the RSS of a child that only starts (the baseline). Children run with V8's old space capped
 * (HEAP_CAP_MB). Goals (issue 8): verify >= 200,000 records/s; peak RSS independent of the log's
 * length (the 10^6 rows within a few MB of the 10^5 rows). The logs are deleted at the end.
 *
 *   node --import tsx bench/log-scale.ts [sizes=100000,1000000] [operations=all|comma-separated]
 *   node --import tsx bench/log-scale.ts --child <operation> <path>
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iterateAttestationLog } from '../src/attestation/log-reader.js';
import type { Attestation } from '../src/attestation/record.js';
import { verifyLog } from '../src/attestation/verify-log.js';
import { AttestationStore } from '../src/attestation/store.js';
import { createDefaultCore } from '../src/registrar/default-core.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';
import type { RegistrarResult } from '../src/registrar/types.js';
import { verify } from '../src/registrar/verify.js';

const MODES = ['baseline', 'chain-before', 'chain', 'verify-before', 'verify-1-thread', 'verify', 'verify-replay', 'replay', 'open'] as const;
type Mode = (typeof MODES)[number];
/** How each operation is named in the table, and the row it is compared with. */
const LABELS: Record<Mode, string> = {
  baseline: 'baseline',
  'chain-before': 'chain (before)',
  chain: 'chain',
  'verify-before': 'verify (before)',
  'verify-1-thread': 'verify 1 thread',
  verify: 'verify',
  'verify-replay': 'verify+replay',
  replay: 'replay',
  open: 'open',
};
const BEFORE: Partial<Record<Mode, Mode>> = { chain: 'chain-before', 'verify-1-thread': 'verify-before', verify: 'verify-before' };
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
  /** CPU time (user + system) of the operation, all threads: on a busy machine, wall time includes waiting for a core. */
  cpuSeconds: number;
  /** CPU time of the main thread alone (Linux), or null. */
  mainCpuSeconds: number | null;
  maxRssMb: number;
  ok: boolean;
}

/** CPU seconds this thread has used (Linux: /proc/thread-self/stat), or null elsewhere. */
function threadCpuSeconds(): number | null {
  if (!existsSync('/proc/thread-self/stat')) return null;
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

/** The records of a read, as a plain iterable: verify takes the records path (each parsed, frozen and checked on this thread). */
function* recordsOf(records: Iterable<Attestation>): Generator<Attestation> {
  yield* records;
}

/** Runs one measurement in this (child) process and prints its report as JSON. */
async function child(mode: Mode, path: string): Promise<void> {
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const mainBefore = threadCpuSeconds();
  let records = 0;
  let ok = true;
  if (mode === 'chain-before' || mode === 'chain') {
    const report = verifyLog(path, mode === 'chain-before' ? { hashing: 'canonical', checkWorkers: 0 } : {});
    records = report.records;
    ok = report.ok;
  } else if (mode === 'verify-before' || mode === 'verify-1-thread' || mode === 'verify' || mode === 'verify-replay') {
    const log =
      mode === 'verify-before' ? recordsOf(iterateAttestationLog(path, { hashing: 'canonical' })) : iterateAttestationLog(path, mode === 'verify-1-thread' ? { checkWorkers: 0 } : {});
    const report = verify(log, { replay: mode === 'verify-replay' });
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
  const mainAfter = threadCpuSeconds();
  const mainCpuSeconds = mainBefore === null || mainAfter === null ? null : mainAfter - mainBefore;
  const report: ChildReport = { records, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, mainCpuSeconds, maxRssMb: process.resourceUsage().maxRSS / 1024, ok };
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
  const operations = args[1] === undefined || args[1] === 'all' ? MODES.slice(1) : (args[1].split(',') as Mode[]);
  for (const operation of operations) if (!MODES.includes(operation) || operation === 'baseline') throw new Error(`unknown operation ${operation} (expected ${MODES.slice(1).join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'vs-log-scale-'));
  try {
    const baseline = measure('baseline', join(dir, 'none'));
    console.log(`attestation log at scale: each row in its own child process (V8 old space capped at ${HEAP_CAP_MB} MB); baseline child (starts, reads nothing): peak RSS ${baseline.maxRssMb.toFixed(0)} MB`);
    console.log('goals: verify >= 200,000 records/s; peak RSS independent of the log length');
    console.log('(before) rows: the hash recomputed over each record\'s canonical JSON, on one thread, as before line hashing and check workers; x before: wall records/s over the (before) row\n');
    const rows: string[][] = [['records', 'log', 'operation', 'records/s (wall)', 'x before', 'records/s (CPU)', 'main CPU µs/record', 'wall s', 'CPU s', 'peak RSS', 'RSS - baseline']];
    for (const size of sizes) {
      const path = join(dir, `log-${size}${size >= 1_000_000 ? '' : '.jsonl'}`);
      const generatedAt = process.hrtime.bigint();
      const bytes = await generate(path, size);
      console.log(`generated ${size} records (${(bytes / 2 ** 20).toFixed(0)} MiB${size >= 1_000_000 ? `, segments of ${SEGMENT_BYTES / 2 ** 20} MiB` : ''}) in ${(Number(process.hrtime.bigint() - generatedAt) / 1e9).toFixed(1)} s`);
      const wallRates = new Map<Mode, number>();
      for (const mode of operations) {
        const report = measure(mode, path);
        if (!report.ok || report.records !== size) throw new Error(`${mode} of ${size} records: ${JSON.stringify(report)}`);
        const rate = (seconds: number) => Math.round(report.records / seconds).toLocaleString('en-US');
        wallRates.set(mode, report.records / report.seconds);
        const before = BEFORE[mode] === undefined ? undefined : wallRates.get(BEFORE[mode]);
        rows.push([
          String(size),
          `${(bytes / 2 ** 20).toFixed(0)} MiB`,
          LABELS[mode],
          rate(report.seconds),
          before === undefined ? '' : `${(report.records / report.seconds / before).toFixed(2)}x`,
          rate(report.cpuSeconds),
          report.mainCpuSeconds === null ? 'n/a' : ((report.mainCpuSeconds * 1e6) / report.records).toFixed(2),
          report.seconds.toFixed(2),
          report.cpuSeconds.toFixed(2),
          `${report.maxRssMb.toFixed(0)} MB`,
          `${(report.maxRssMb - baseline.maxRssMb).toFixed(0)} MB`,
        ]);
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
