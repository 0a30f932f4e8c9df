/**
 * Worker of bench/interrupt.bench.ts (the "another thread" row): a registrar attached to the
 * bench's registrar (its share) that interrupts a stream, as its owner, the moment the bench
 * fires a shared cell. Armed with a stream id by message, it blocks on the cell (Atomics.wait), so
 * the request follows the bench's signal by a thread wake-up, not by a message hop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AudioRegistrar, type RegistrarShare } from '../src/registrar/registrar.js';

/** What the bench hands the worker. */
export interface InterrupterData {
  share: RegistrarShare;
  /** Int32 [0]: bumped by the bench to fire; [1]: bumped by the worker once its request returned. */
  cell: SharedArrayBuffer;
  actor: string;
}

/** What the worker reports after each interrupt. */
export interface InterrupterReport {
  allowed: boolean;
  reason: string | null;
  attestationId: string;
}

const data = workerData as InterrupterData;
const registrar = AudioRegistrar.attach(data.share);
const owner = registrar.registerActor(data.actor);
const cell = new Int32Array(data.cell);

parentPort?.on('message', (streamId: string) => {
  const armedAt = Atomics.load(cell, 0);
  parentPort?.postMessage('armed');
  Atomics.wait(cell, 0, armedAt); // until the bench fires
  const result = registrar.request({ action: 'interrupt', actor: owner, target: streamId, reason: 'from another thread' });
  Atomics.add(cell, 1, 1);
  parentPort?.postMessage({ allowed: result.allowed, reason: result.reason, attestationId: result.attestation.id } satisfies InterrupterReport);
});
