/**
 * `npm run bench:memory`: does a long-running registrar keep a flat memory footprint?
 *
 * Runs ≥ 10^7 requests (2·10^6 utterance lifecycles of 5 requests: start, synthesize, play,
 * interrupt, stop; each utterance a new stream) on the default core with a durable attestation log
 * (group commit) in a temp dir, awaiting the log every few thousand requests as a runtime that
 * yields to its event loop would. Every 2.5 % of the run (after a full GC, so samples compare live
 * memory rather than GC timing) it prints RSS, V8 heap used, the records
 * the store holds in memory, its index entries, and the core's live stream ids and table size.
 * At the end it judges the RSS over the last 80 % of the run (after warm-up): flat when max − min
 * stays within 10 % of the minimum (and 64 MB). Exits 1 when it is not flat, or when a request
 * threw or was denied. The log (~13 GB for 10^7 records) is deleted at the end.
 *
 *   node --import tsx bench/registrar-memory.ts [requests=10000000] [memoryRecords=10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AttestationStore } from '../src/attestation/store.js';
import { createDefaultCore } from '../src/registrar/default-core.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';

const requests = Number(process.argv[2] ?? 10_000_000);
const memoryRecords = Number(process.argv[3] ?? 10_000);
const LIFECYCLE = ['start', 'synthesize', 'play', 'interrupt', 'stop'] as const;
/** Requests between awaits of the log (the event loop turns, group commit writes). */
const FLUSH_EVERY = 4096;
const SAMPLES = 40;
const WARMUP_FRACTION = 0.2;
const MB = 1024 * 1024;

interface Sample {
  requests: number;
  rssMb: number;
  heapMb: number;
}

/** A full garbage collection before each sample, so samples compare live memory, not GC timing. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? (gc as () => void) : () => undefined;
}

function mb(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}

async function main(): Promise<void> {
  if (!Number.isInteger(requests) || requests < LIFECYCLE.length) throw new Error(`requests must be an integer ≥ ${LIFECYCLE.length}`);
  const dir = mkdtempSync(join(tmpdir(), 'vs-registrar-memory-'));
  const path = join(dir, 'attestations.jsonl');
  const core = createDefaultCore();
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 2, memoryRecords });
  const registrar = new AudioRegistrar({ store, core });
  registrar.registerActor('agent:bench');
  const policy = core.compactionPolicy?.() ?? null;
  console.log(`registrar memory: ${requests} requests, ${core.constructor.name}, durable log (group commit) in ${dir}`);
  console.log(`  memoryRecords ${memoryRecords}, compaction ${policy ? `every ${policy.periodSeqs} seqs, retain ${policy.retainSeqs}` : 'off'}`);
  console.log('  requests    rss MB   heap MB   records in memory   index entries   live stream ids   stream table');
  const samples: Sample[] = [];
  const gc = collector();
  const every = Math.max(LIFECYCLE.length, Math.floor(requests / SAMPLES));
  const stats = (): { liveStreamIds: number; streamTableSize: number } | null =>
    'stats' in core && typeof core.stats === 'function' ? (core.stats as () => { liveStreamIds: number; streamTableSize: number })() : null;
  let done = 0;
  let denied = 0;
  let target = '';
  const startedNs = process.hrtime.bigint();
  while (done < requests) {
    const action = LIFECYCLE[done % LIFECYCLE.length] ?? 'start';
    const result = registrar.requestAsHost(action === 'start' ? { action, actor: 'agent:bench' } : { action, actor: 'agent:bench', target });
    if (!result.allowed) {
      denied += 1;
      if (denied <= 3) console.error(`  denied at request ${done}: ${result.reason ?? '?'} ${result.message}`);
    }
    if (action === 'start') target = result.streamId ?? '';
    done += 1;
    if (done % FLUSH_EVERY === 0) await registrar.flush();
    if (done % every === 0 || done === requests) {
      await registrar.flush();
      gc();
      const usage = process.memoryUsage();
      const sample = { requests: done, rssMb: mb(usage.rss), heapMb: mb(usage.heapUsed) };
      samples.push(sample);
      const core = stats();
      console.log(
        `  ${String(done).padStart(8)}  ${sample.rssMb.toFixed(1).padStart(8)}  ${sample.heapMb.toFixed(1).padStart(8)}` +
          `  ${String(store.memorySize).padStart(18)}  ${String(store.indexEntries).padStart(14)}` +
          `  ${String(core?.liveStreamIds ?? '-').padStart(16)}  ${String(core?.streamTableSize ?? '-').padStart(13)}`,
      );
    }
  }
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  await registrar.close();
  rmSync(dir, { recursive: true, force: true });

  const steady = samples.slice(Math.floor(samples.length * WARMUP_FRACTION));
  const rss = steady.map((sample) => sample.rssMb);
  const heap = steady.map((sample) => sample.heapMb);
  const minRss = Math.min(...rss);
  const spreadRss = Math.max(...rss) - minRss;
  const spreadHeap = Math.max(...heap) - Math.min(...heap);
  const flat = spreadRss <= Math.min(64, minRss * 0.1);
  console.log(`  ${done} requests in ${seconds.toFixed(1)} s (${((seconds / done) * 1e6).toFixed(2)} µs each, log writes included); ${denied} denied`);
  console.log(`  after warm-up (last ${Math.round((1 - WARMUP_FRACTION) * 100)} % of the run): RSS ${minRss.toFixed(1)}–${Math.max(...rss).toFixed(1)} MB (spread ${spreadRss.toFixed(1)} MB), heap used spread ${spreadHeap.toFixed(1)} MB`);
  console.log(`  RSS flat after warm-up: ${flat ? 'yes' : 'NO'} (spread within 10 % of the minimum and 64 MB)`);
  if (!flat || denied > 0) process.exitCode = 1;
}

await main();
