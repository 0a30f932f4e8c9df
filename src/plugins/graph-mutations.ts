/**
 * Applies validated `onGraph` mutations to a SpeechGraph, producing a new frozen graph (the old one
 * is untouched). The result passes `parseSpeechGraph` like any graph from outside and keeps the
 * timeline: an added pause gets an id no node has and shifts the nodes after it on its track. The
 * pauses of one call add up to at most MAX_ADDED_PAUSE_MS. A mutation that names no node of the
 * graph, or a node of the wrong type, or goes past that limit, is an error naming it.
 */
import { parseSpeechGraph } from '../graph/speech-graph-schema.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import type { GraphMutation } from './hook-io.js';

/** Most milliseconds of pause one `onGraph` call may add (so a plugin cannot stall a stream for minutes). */
export const MAX_ADDED_PAUSE_MS = 60_000;

type MutableNode = Record<string, unknown> & { id: string; type: string; track: string; timing: { startMs: number; durationMs: number; source: string }; annotations: Record<string, unknown> };

/** The graph with `mutations` applied, or throws Error naming the mutation at fault. */
export function applyGraphMutations(graph: SpeechGraph, mutations: readonly GraphMutation[], tag: string): SpeechGraph {
  const copy = structuredClone(graph) as unknown as { nodes: MutableNode[]; annotations: Record<string, unknown>; durationMs: number };
  let added = 0;
  let addedMs = 0;
  const ids = new Set(copy.nodes.map((node) => node.id));
  const freshId = (): string => {
    for (;;) {
      const suffix = `-${added++}`;
      const id = `${tag.slice(0, 64 - suffix.length)}${suffix}`;
      if (!ids.has(id)) {
        ids.add(id);
        return id;
      }
    }
  };
  mutations.forEach((mutation, index) => {
    const where = `mutations.${index} (${mutation.op})`;
    const find = (id: string): number => {
      const at = copy.nodes.findIndex((node) => node.id === id);
      if (at < 0) throw new Error(`${where}: no node ${JSON.stringify(id)} in the graph`);
      return at;
    };
    if (mutation.op === 'add_pause') {
      addedMs += mutation.durationMs;
      if (addedMs > MAX_ADDED_PAUSE_MS) throw new Error(`${where}: the pauses of one call add up to more than ${MAX_ADDED_PAUSE_MS} ms`);
      const at = find(mutation.afterNodeId);
      const after = copy.nodes[at] as MutableNode;
      const startMs = after.timing.startMs + after.timing.durationMs;
      // The nodes after it on its track start later by the pause (the timeline has no overlap).
      for (let index = at + 1; index < copy.nodes.length; index++) {
        const node = copy.nodes[index] as MutableNode;
        if (node.track === after.track && node.timing.startMs >= startMs) node.timing = { ...node.timing, startMs: node.timing.startMs + mutation.durationMs };
      }
      const pause: MutableNode = {
        id: freshId(),
        type: 'silence',
        track: after.track,
        timing: { startMs, durationMs: mutation.durationMs, source: 'estimated' },
        annotations: { addedBy: tag },
        durationMs: mutation.durationMs,
        reason: 'break',
      };
      copy.nodes.splice(at + 1, 0, pause);
      copy.durationMs += mutation.durationMs;
    } else if (mutation.op === 'set_prosody') {
      const node = copy.nodes[find(mutation.nodeId)] as MutableNode;
      if (node.type !== 'text') throw new Error(`${where}: node ${mutation.nodeId} is ${node.type}, not a text node`);
      const prosody = node.prosody as Record<string, number>;
      for (const key of ['rate', 'pitchSemitones', 'volumeDb'] as const) if (mutation[key] !== undefined) prosody[key] = mutation[key];
    } else if (mutation.nodeId === undefined) {
      copy.annotations[mutation.key] = mutation.value;
    } else {
      (copy.nodes[find(mutation.nodeId)] as MutableNode).annotations[mutation.key] = mutation.value;
    }
  });
  return parseSpeechGraph(copy);
}
