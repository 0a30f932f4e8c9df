/**
 * Graph mutations proposed by plugins (review of issue 12): the mutated graph keeps the graph's
 * invariants (unique node ids, a timeline without overlaps that ends at `durationMs`) and the
 * limits hold (a bounded total of added pauses, no prototype keys).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { applyGraphMutations } from '../../src/plugins/graph-mutations.js';
import { graphMutationSchema, onGraphOutputSchema } from '../../src/plugins/hook-io.js';

const graph = compile('Hello there. How are you? Fine.');
const first = graph.nodes[0]?.id ?? '';

/** Whether each node starts where the previous one ends and the last ends at durationMs. */
function timelineProblem(nodes: ReadonlyArray<{ id: string; timing: { startMs: number; durationMs: number } }>, durationMs: number): string | null {
  let end = 0;
  for (const node of nodes) {
    if (node.timing.startMs < end) return `${node.id} starts at ${node.timing.startMs}, before the previous node ends at ${end}`;
    end = node.timing.startMs + node.timing.durationMs;
  }
  return end === durationMs ? null : `the last node ends at ${end}, not at durationMs ${durationMs}`;
}

describe('applyGraphMutations keeps the graph invariants', () => {
  it('the compiled graph has a clean timeline (the check catches a planted overlap)', () => {
    expect(timelineProblem(graph.nodes, graph.durationMs)).toBeNull();
    const planted = graph.nodes.map((node, index) => (index === 1 ? { ...node, timing: { ...node.timing, startMs: 0 } } : node));
    expect(timelineProblem(planted, graph.durationMs)).toMatch(/starts at 0, before/);
  });

  it('add_pause shifts the nodes after it: no overlap, and the timeline ends at durationMs', () => {
    const mutated = applyGraphMutations(graph, [{ op: 'add_pause', afterNodeId: first, durationMs: 500 }], 'plugin-breathe');
    expect(mutated.durationMs).toBe(graph.durationMs + 500);
    expect(timelineProblem(mutated.nodes, mutated.durationMs)).toBeNull();
  });

  it('a plugin with the longest name adds two pauses with distinct ids', () => {
    const tag = `plugin-${'a'.repeat(63)}`;
    const mutated = applyGraphMutations(graph, [
      { op: 'add_pause', afterNodeId: first, durationMs: 100 },
      { op: 'add_pause', afterNodeId: first, durationMs: 100 },
    ], tag);
    const ids = mutated.nodes.map((node) => node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.length <= 64)).toBe(true);
  });

  it('pauses added by one onGraph call total at most 60 s', () => {
    const mutations = Array.from({ length: 7 }, () => ({ op: 'add_pause' as const, afterNodeId: first, durationMs: 10_000 }));
    expect(() => applyGraphMutations(graph, mutations, 'plugin-stall')).toThrow(/mutations.6 \(add_pause\): the pauses of one call add up to more than 60000 ms/);
    expect(applyGraphMutations(graph, mutations.slice(0, 6), 'plugin-stall').durationMs).toBe(graph.durationMs + 60_000);
  });

  it('an annotation key that names a prototype slot is refused by the schema', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const parsed = graphMutationSchema.safeParse({ op: 'annotate', key, value: { polluted: true } });
      expect(parsed.success).toBe(false);
    }
    expect(onGraphOutputSchema.safeParse([{ op: 'annotate', key: 'dsp.hint', value: { gain: 1 } }]).success).toBe(true);
  });
});
