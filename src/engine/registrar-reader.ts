/**
 * RegistrarReader: the read-only face of a registrar that an engine hands out as
 * `engine.registrar`. It reads state and subscribes observers; it cannot request, register
 * actors, reach the store or subscribe in the effect phase, so code that holds only an agent's
 * engine decides nothing.
 */
import { z } from 'zod';
import type { Attestation } from '../attestation/record.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { HaltInfo, OverrideView, StreamView, TransitionEvent } from '../registrar/types.js';
import { parseInput } from '../validation.js';

/** What `engine.registrar` offers: reading the registrar's state and listening to it, never deciding. */
export interface RegistrarReader {
  /** A stream's state, or null. */
  getState(streamId: string): StreamView | null;
  /** Every stream. */
  listStates(): readonly StreamView[];
  /** Active accessibility overrides. */
  listOverrides(): readonly OverrideView[];
  /** The override covering a stream, or null. */
  overrideFor(streamId: string): OverrideView | null;
  /** The latest `limit` attestations (default 1,000, at most 100,000), oldest first (frozen records). */
  attestations(limit?: number): readonly Attestation[];
  /** Whether the registrar halted. */
  readonly halted: boolean;
  /** Why it halted, or null. */
  readonly haltCause: HaltInfo | null;
  /** See AudioRegistrar.onTransition. */
  onTransition(listener: (event: TransitionEvent) => void): () => void;
  /** See AudioRegistrar.onHalt. */
  onHalt(listener: (halt: HaltInfo) => void): () => void;
}

/** How many records `engine.registrar.attestations()` returns at most: a bounded read, never the whole log. */
const readerLimitSchema = z.number().int().min(1).max(100_000);

/** A read-only face of a registrar: no request, no registration, no store. */
export function readerOf(registrar: AudioRegistrar): RegistrarReader {
  return Object.freeze({
    getState: (streamId: string) => registrar.getState(streamId),
    listStates: () => registrar.listStates(),
    listOverrides: () => registrar.listOverrides(),
    overrideFor: (streamId: string) => registrar.overrideFor(streamId),
    attestations: (limit: number = 1000) => {
      const count = parseInput(readerLimitSchema, limit, 'limit');
      const store = registrar.attestationStore;
      return Object.freeze([...store.records(Math.max(store.chainStart.seq + 1, store.lastSeq - count + 1))]);
    },
    get halted() {
      return registrar.halted;
    },
    get haltCause() {
      return registrar.haltCause;
    },
    onTransition: (listener: (event: TransitionEvent) => void) => registrar.onTransition(listener),
    onHalt: (listener: (halt: HaltInfo) => void) => registrar.onHalt(listener),
  });
}
