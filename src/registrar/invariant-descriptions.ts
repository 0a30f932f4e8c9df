/** Human descriptions of every invariant, for `listInvariants()` and the docs. */
import { DOMAIN_INVARIANTS } from './core.js';
import { STRUCTURAL_INVARIANT_IDS, type StructuralInvariantId } from './invariants.js';
import type { InvariantDescription } from './types.js';

const DOMAIN_RULES: Record<(typeof DOMAIN_INVARIANTS)[number]['id'], string> = {
  'audio.actor.registered': 'the requesting actor is registered',
  'audio.ownership.single_owner': 'claim never takes an owned stream',
  'audio.ownership.required_for_control':
    'actions on a stream need its owner (system: synthesize/play/stop/fail and preemption; a delegated plugin: mutate_graph; the owner of any override covering it: interrupt/stop/fail/mutate_graph/transfer); a user enables a user-scoped override only for themselves and a session-scoped one only for a session they belong to',
  'audio.accessibility.supremacy':
    'while overrides cover a stream, agents and plugins may not interrupt, stop, fail, mutate or transfer it (the system may still stop and fail it); only a user enables an override and only its owner updates or disables it; HALT only when a registered user who may enable there would replace another user\'s override (unknown actors, agents, plugins and the system are at most refused)',
  'audio.accessibility.auditable': 'override changes carry accessibility: true in their attestation (checked by verify)',
  'audio.lifecycle.no_dead_interrupt': 'no interrupt of stopped, failed or unknown streams',
  'audio.lifecycle.commit_boundary': 'no compile, mutate_graph or rollback after commit',
  'audio.lifecycle.valid_transition': 'the transition is in the state table (a transfer also needs a registered new owner)',
  'audio.plugin.immutability': 'plugins never change lifecycle state and touch the graph only before commit',
};

const STRUCTURAL_RULES: Record<StructuralInvariantId, string> = {
  'state.identity.immutable': 'a stream keeps its id and creating session/user/priority for its whole life',
  'state.identity.explicit': 'every accepted transition names its stream',
  'state.identity.unique': 'attestation ids are unique; a stream is created once',
  'state.lineage.explicit': 'every accepted transition after creation names its parent attestation',
  'state.lineage.parent_exists': 'the parent is an earlier accepted transition of the same stream',
  'state.lineage.single_parent': 'no two accepted transitions share a parent (no forks)',
  'state.lineage.continuous': 'the stream version rises by exactly one per accepted transition',
  'ordering.total': 'one global sequence over all records',
  'ordering.monotonic': 'seq strictly increases',
  'ordering.gap_free': 'seq rises by exactly one, starting at 1 (or after the snapshot)',
  'ordering.deterministic': 'replay gives the same decisions and the same state hash',
};

let cached: readonly InvariantDescription[] | undefined;

/** Every invariant, domain (in evaluation order) then structural. */
export function describeInvariants(): readonly InvariantDescription[] {
  cached ??= Object.freeze([
    ...DOMAIN_INVARIANTS.map((entry) =>
      Object.freeze({
        id: entry.id,
        kind: 'domain' as const,
        level: entry.id === 'audio.accessibility.supremacy' ? ('REJECT/HALT' as const) : entry.level,
        reason: entry.reason,
        rule: DOMAIN_RULES[entry.id],
      }),
    ),
    ...STRUCTURAL_INVARIANT_IDS.map((id) => Object.freeze({ id, kind: 'structural' as const, level: 'STRUCTURAL' as const, reason: null, rule: STRUCTURAL_RULES[id] })),
  ]);
  return cached;
}
