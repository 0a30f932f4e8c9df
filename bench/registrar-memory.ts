/**
 * `npm run bench:memory`: does a long-running registrar keep a flat memory footprint?
 *
 * Runs ≥ 10^7 requests (2·10^6 utterance lifecycles of 5 requests: start, synthesize, play,
 * interrupt, stop; each utterance a new stream) on the default core with a durable attestation log
 * (group commit) in a temp dir, awaiting the log every few thousand requests as a runtime that
 * yields to its event loop would. Every 2.5 % of the run (after a full GC, so samples compare live
 * memory rather than GC timing) it prints RSS, V8 heap used, the records
 * the store holds in memory, its index entries, and the core's live stream ids and table size.
 * At the end it judges the RSS over the last 80 % of the run (after warm-up). Single samples
 * scatter by some tens of MB whatever the load (V8 keeps 35–95 MB of heap committed around ~18 MB
 * used, and malloc keeps freed group-commit buffers), so max − min is printed but the verdict is
 * on growth: RSS is flat when neither the least-squares trend across that span nor the difference
 * between the means of its second and first halves grows by more than 5 % of the mean RSS (a leak
 * of one byte per request would add ~8 MB; a fall is not a leak). The same verdict is printed for
 * live memory (RSS − V8 heap total + heap used: native memory and the JS heap in use, without the
 * committed-but-free heap whose swings dominate RSS). Exits 1 when live memory is not flat, or when
 * a request was denied.
 * The log (~13 GB for 10^7 records) is deleted at the end.
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
const FLUSH_EVERY = 1024;
const SAMPLES = 40;
const WARMUP_FRACTION = 0.2;
const MB = 1024 * 1024;

interface Sample {
  requests: number;
  rssMb: number;
  heapMb: number;
  heapTotalMb: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

/** Least-squares growth (MB) of `value` (RSS by default) across the samples' span of requests. */
function trendMb(samples: readonly Sample[], value: (sample: Sample) => number = (sample) => sample.rssMb): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanX = samples.reduce((sum, s) => sum + s.requests, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + value(s), 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.requests - meanX) * (value(sample) - meanY);
    variance += (sample.requests - meanX) ** 2;
  }
  const span = (samples.at(-1)?.requests ?? 0) - (samples[0]?.requests ?? 0);
  return variance === 0 ? 0 : (covariance / variance) * span;
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
  console.log('  requests    rss MB   heap used MB   heap total MB   records in memory   index entries   live stream ids   stream table');
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
      const sample = { requests: done, rssMb: mb(usage.rss), heapMb: mb(usage.heapUsed), heapTotalMb: mb(usage.heapTotal) };
      samples.push(sample);
      const core = stats();
      console.log(
        `  ${String(done).padStart(8)}  ${sample.rssMb.toFixed(1).padStart(8)}  ${sample.heapMb.toFixed(1).padStart(13)}  ${sample.heapTotalMb.toFixed(1).padStart(14)}` +
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
  const meanRss = mean(rss);
  const spreadRss = Math.max(...rss) - minRss;
  const trend = trendMb(steady);
  const half = Math.floor(rss.length / 2);
  const halves = mean(rss.slice(half)) - mean(rss.slice(0, half));
  const flat = trend <= meanRss * 0.05 && halves <= meanRss * 0.05;
  const heapTotal = steady.map((sample) => sample.heapTotalMb);
  console.log(`  ${done} requests in ${seconds.toFixed(1)} s (${((seconds / done) * 1e6).toFixed(2)} µs each, log writes included); ${denied} denied`);
  console.log(
    `  after warm-up (last ${Math.round((1 - WARMUP_FRACTION) * 100)} % of the run, ${steady[0]?.requests ?? 0}–${done} requests): ` +
      `RSS ${minRss.toFixed(1)}–${Math.max(...rss).toFixed(1)} MB (max − min ${spreadRss.toFixed(1)} MB, mean ${meanRss.toFixed(1)} MB), ` +
      `heap used ${Math.min(...heap).toFixed(1)}–${Math.max(...heap).toFixed(1)} MB, heap total ${Math.min(...heapTotal).toFixed(1)}–${Math.max(...heapTotal).toFixed(1)} MB`,
  );
  const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} MB`;
  console.log(`  RSS growth after warm-up: trend ${signed(trend)}, second half − first half ${signed(halves)} (flat: neither grows by more than 5 % of the mean, ${(meanRss * 0.05).toFixed(1)} MB)`);
  console.log(`  RSS flat after warm-up: ${flat ? 'yes' : 'NO'}`);
  // RSS also counts heap V8 keeps committed but unused (heap total − heap used swings by tens of
  // MB); live memory (RSS − heap total + heap used: native memory plus the JS heap in use) is what
  // a leak would grow.
  const live = (sample: Sample) => sample.rssMb - sample.heapTotalMb + sample.heapMb;
  const liveMean = mean(steady.map(live));
  const liveTrend = trendMb(steady, live);
  const liveHalves = mean(steady.slice(half).map(live)) - mean(steady.slice(0, half).map(live));
  const liveFlat = liveTrend <= liveMean * 0.05 && liveHalves <= liveMean * 0.05;
  console.log(`  live memory (RSS − heap total + heap used): mean ${liveMean.toFixed(1)} MB, trend ${signed(liveTrend)}, second half − first half ${signed(liveHalves)}; flat: ${liveFlat ? 'yes' : 'NO'}`);
  if (!liveFlat || denied > 0) process.exitCode = 1;
}

await main();
