// 4.8.11 Schema freeze: states, actions, invariant ids, reason codes and attestation fields are
// pinned; changing any of them must be a deliberate schema version change.
import { describe, expect, it } from 'vitest';
import { ATTESTATION_FIELDS } from '../../src/attestation/record.js';
import { ACTOR_KINDS, DOMAIN_INVARIANTS, OVERRIDE_SCOPES, REASON_CODES, STREAM_STATES, TRANSITION_ACTIONS } from '../../src/registrar/core.js';
import { INVARIANT_IDS } from '../../src/registrar/invariants.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { REGISTRAR_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS } from '../../src/registrar/version.js';

describe('schema freeze (2.9.0)', () => {
  it('pins the version', () => {
    expect(REGISTRAR_SCHEMA_VERSION).toBe('2.9.0');
    expect(SUPPORTED_SCHEMA_VERSIONS).toEqual(['2.6', '2.7', '2.8', '2.9']);
  });

  it('pins the 7 states and 17 actions in order', () => {
    expect(STREAM_STATES).toEqual(['idle', 'compiling', 'synthesizing', 'playing', 'interrupting', 'stopped', 'failed']);
    expect(TRANSITION_ACTIONS).toEqual([
      'start', 'compile', 'synthesize', 'play', 'interrupt', 'stop', 'fail', 'restart', 'claim', 'release', 'transfer',
      'enable_override', 'update_override', 'disable_override', 'mutate_graph', 'commit', 'rollback',
    ]);
    expect(ACTOR_KINDS).toEqual(['user', 'agent', 'plugin', 'system']);
    expect(OVERRIDE_SCOPES).toEqual(['session', 'user']);
  });

  it('pins the invariant ids, their order, levels and reason codes', () => {
    expect(INVARIANT_IDS).toEqual([
      'audio.actor.registered', 'audio.ownership.single_owner', 'audio.ownership.required_for_control', 'audio.accessibility.supremacy',
      'audio.accessibility.auditable', 'audio.lifecycle.no_dead_interrupt', 'audio.lifecycle.commit_boundary', 'audio.lifecycle.valid_transition',
      'audio.plugin.immutability',
      'state.identity.immutable', 'state.identity.explicit', 'state.identity.unique', 'state.lineage.explicit', 'state.lineage.parent_exists',
      'state.lineage.single_parent', 'state.lineage.continuous', 'ordering.total', 'ordering.monotonic', 'ordering.gap_free', 'ordering.deterministic',
    ]);
    expect(DOMAIN_INVARIANTS.map((entry) => [entry.level, entry.reason])).toEqual([
      ['REJECT', 'unknown_actor'], ['REJECT', 'already_owned'], ['REJECT', 'not_owner'], ['REJECT', 'accessibility_override'], ['WARN', null],
      ['REJECT', 'terminal_state'], ['REJECT', 'commit_boundary'], ['REJECT', 'invalid_transition'], ['REJECT', 'plugin_immutable'],
    ]);
    expect(REASON_CODES).toEqual([
      'unknown_actor', 'already_owned', 'not_owner', 'accessibility_override', 'terminal_state', 'commit_boundary', 'invalid_transition',
      'plugin_immutable', 'invalid_request', 'registrar_halted', 'capacity_exhausted',
    ]);
    const listed = new AudioRegistrar().listInvariants();
    expect(listed.map((entry) => entry.id)).toEqual([...INVARIANT_IDS]);
    expect(listed.find((entry) => entry.id === 'audio.accessibility.supremacy')?.level).toBe('REJECT/HALT');
  });

  it('pins the attestation fields', () => {
    expect(ATTESTATION_FIELDS).toEqual([
      'v', 'seq', 'id', 'timestamp', 'actor', 'action', 'target', 'decision', 'reason', 'message', 'invariants', 'violations',
      'accessibility', 'parent', 'stateBefore', 'stateAfter', 'version', 'parameters', 'metadata', 'prevHash', 'hash',
    ]);
  });
});
