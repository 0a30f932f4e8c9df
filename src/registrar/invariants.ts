/**
 * The invariant catalogue (spec §4): domain invariants (decided by the core, in order) and
 * structural invariants (checked by the facade on every accepted transition and by `verify()`).
 */
import { DOMAIN_INVARIANTS } from './core.js';

/** Domain invariant ids in evaluation order. */
export const DOMAIN_INVARIANT_IDS = DOMAIN_INVARIANTS.map((entry) => entry.id);

/** Structural invariant ids. */
export const STRUCTURAL_INVARIANT_IDS = [
  'state.identity.immutable',
  'state.identity.explicit',
  'state.identity.unique',
  'state.lineage.explicit',
  'state.lineage.parent_exists',
  'state.lineage.single_parent',
  'state.lineage.continuous',
  'ordering.total',
  'ordering.monotonic',
  'ordering.gap_free',
  'ordering.deterministic',
] as const;

/** Marker recorded in `invariants` (and metadata.preemption) when a system interrupt preempted a stream. */
export const PREEMPTION_RULE_ID = 'audio.priority.preemption';

/** Every invariant id, domain first; a test pins the list. */
export const INVARIANT_IDS = [...DOMAIN_INVARIANTS.map((entry) => entry.id), ...STRUCTURAL_INVARIANT_IDS] as const;

/** A structural invariant id. */
export type StructuralInvariantId = (typeof STRUCTURAL_INVARIANT_IDS)[number];

/** Structural invariants the facade checks on each accepted transition (the rest need a whole log). */
export const TRANSITION_CHECKED_INVARIANTS: readonly StructuralInvariantId[] = [
  'state.identity.explicit',
  'state.lineage.explicit',
  'state.lineage.parent_exists',
  'state.lineage.continuous',
  'ordering.monotonic',
  'ordering.gap_free',
];
