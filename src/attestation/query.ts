/** Filtering attestations by actor, action, target, decision and time (spec §5). */
import { z } from 'zod';
import type { Attestation } from './record.js';

/** zod schema of a query; every field optional, all given fields must match. */
export const attestationQuerySchema = z.strictObject({
  /** Actor as "kind:id" or bare id. */
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  decision: z.enum(['allowed', 'denied']).optional(),
  /** Inclusive lower bound on the wall clock (ISO 8601 text or a Date). */
  since: z.union([z.iso.datetime(), z.date()]).optional(),
  /** Exclusive upper bound on the wall clock. */
  until: z.union([z.iso.datetime(), z.date()]).optional(),
});

/** A query over attestations. */
export type AttestationQuery = z.input<typeof attestationQuerySchema>;

/** A predicate for a validated query. */
export function queryPredicate(query: z.output<typeof attestationQuerySchema>): (record: Attestation) => boolean {
  const sinceMs = query.since === undefined ? undefined : new Date(query.since).getTime();
  const untilMs = query.until === undefined ? undefined : new Date(query.until).getTime();
  return (record) => {
    if (query.actor !== undefined) {
      const actor = record.actor;
      if (!actor || (query.actor !== `${actor.kind}:${actor.id}` && query.actor !== actor.id)) return false;
    }
    if (query.action !== undefined && record.action !== query.action) return false;
    if (query.target !== undefined && record.target !== query.target) return false;
    if (query.decision !== undefined && record.decision !== query.decision) return false;
    if (sinceMs !== undefined || untilMs !== undefined) {
      const atMs = Date.parse(record.timestamp.wall);
      if (sinceMs !== undefined && atMs < sinceMs) return false;
      if (untilMs !== undefined && atMs >= untilMs) return false;
    }
    return true;
  };
}
