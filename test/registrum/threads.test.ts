// Registrars on several threads sharing one native core: every registrar's store is gap-free,
// verifies, and replays (on a fresh core) to the live state of the shared core.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest } from './cores.js';

const WORKER_SCRIPT = new URL('./fixtures/registrar-worker.ts', import.meta.url).href;
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

function runWorker(shareToken: string, name: string, rounds: number): Promise<{ allowed: number; log: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { shareToken, name, rounds } });
    let report: { allowed: number; log: string } | undefined;
    worker.on('message', (message: { allowed: number; log: string }) => (report = message));
    worker.on('error', reject);
    worker.on('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`worker ${name} exited ${code}`))));
  });
}

const parse = (jsonLines: string): Attestation[] => jsonLines.trimEnd().split('\n').map((line) => JSON.parse(line) as Attestation);
const withoutIds = (r: AudioRegistrar) => r.listStates().map(({ lastAttestation: _ignored, ...rest }) => rest);
const native = coresUnderTest().find((core) => core.name === 'native');

describe('registrars on several threads', () => {
  it('three worker registrars and the main one share a native core; every log is complete and replays', async () => {
    // Like test/native/, this needs the built addon (npm run build).
    if (!native) throw new Error('the native registrar core is not available: build the addon with `npm run build`');
    const core = native.create() as NativeCore;
    const main = new AudioRegistrar({ core });
    main.registerActor('system:main');
    main.requestAsHost({ action: 'claim', actor: 'system:main', target: 'shared' });
    main.requestAsHost({ action: 'release', actor: 'system:main', target: 'shared' });
    const reports = await Promise.all(['w1', 'w2', 'w3'].map((name) => runWorker(core.shareToken, name, 150)));
    const written = main.syncJournal();
    const total = main.attestationStore.lastSeq;
    expect(total).toBe(2 + 3 * 150 * 7);
    expect(written).toBe(total - 2);
    const mainLog = main.attestationStore.all();
    expect(mainLog.map((record) => record.seq)).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    expect(verify(mainLog)).toMatchObject({ ok: true, errors: [] });
    expect(withoutIds(AudioRegistrar.replay(mainLog, { core: new ReferenceCore() }))).toEqual(withoutIds(main));
    // Each worker's own log is gap-free up to its last decision and replays too.
    for (const report of reports) {
      const log = parse(report.log);
      expect(verify(log, { replay: true }).ok).toBe(true);
      expect(log.filter((record) => record.metadata.origin !== 'journal' && record.decision === 'allowed')).toHaveLength(report.allowed);
    }
    // Single owner throughout: claims of "shared" never succeed while it is owned.
    const sharedClaims = mainLog.filter((record) => record.target === 'shared' && record.action === 'claim' && record.decision === 'allowed');
    const sharedReleases = mainLog.filter((record) => record.target === 'shared' && record.action === 'release' && record.decision === 'allowed');
    expect(sharedClaims.length - sharedReleases.length).toBeGreaterThanOrEqual(0);
    expect(sharedClaims.length - sharedReleases.length).toBeLessThanOrEqual(1);
    core.close();
  });

  it('without a shared native core, two registrars on one reference core interleave the same way', () => {
    const core = new ReferenceCore();
    const a = new AudioRegistrar({ core });
    const b = new AudioRegistrar({ core });
    a.registerActor('agent:a');
    b.registerActor('agent:b');
    for (let round = 0; round < 50; round += 1) {
      a.requestAsHost({ action: 'claim', actor: 'agent:a', target: 'shared' });
      b.requestAsHost({ action: 'claim', actor: 'agent:b', target: 'shared' });
      a.requestAsHost({ action: 'release', actor: 'agent:a', target: 'shared' });
      b.requestAsHost({ action: 'release', actor: 'agent:b', target: 'shared' });
    }
    a.syncJournal();
    b.syncJournal();
    for (const registrar of [a, b]) {
      const log = registrar.attestationStore.all();
      expect(log).toHaveLength(200);
      expect(verify(log, { replay: true }).ok).toBe(true);
    }
  });
});
