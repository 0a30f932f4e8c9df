/**
 * Timelines of a SpeechGraph: estimates before synthesis, and a new graph with measured
 * durations after. Each track is laid out sequentially from 0; tracks play in parallel.
 */
import { deepFreeze, type NodeTiming, type SpeechGraph, type SpeechNode } from './speech-graph.js';

/** Characters of normalised text spoken per second at rate 1 (a typical conversational pace). */
export const ESTIMATED_CHARACTERS_PER_SECOND = 15;

/** A node without its timing: what builders create before laying out the timeline. */
export type UntimedNode = WithoutTiming<SpeechNode>;
type WithoutTiming<Node> = Node extends SpeechNode ? Omit<Node, 'timing'> : never;

/** Estimated duration of speaking `text` at `rate` (a multiplier), in ms. */
export function estimateSpeechMs(text: string, rate: number): number {
  const spokenCharacters = text.replace(/\s+/g, ' ').trim().length;
  if (spokenCharacters === 0) return 0;
  return Math.round((spokenCharacters * 1000) / (ESTIMATED_CHARACTERS_PER_SECOND * rate));
}

/** Estimated duration of one node, in ms (audio clips are unknown until played: 0). */
export function estimateNodeMs(node: UntimedNode): number {
  switch (node.type) {
    case 'text':
    case 'ssml':
      return estimateSpeechMs(node.text, node.prosody.rate);
    case 'silence':
      return node.durationMs;
    case 'audio':
    case 'event':
      return 0;
  }
}

/**
 * Lays nodes out on their tracks. `durationOf` gives each node's duration and source; the
 * result's `durationMs` is the end of the longest track.
 */
export function layOutTimeline(
  nodes: readonly UntimedNode[],
  durationOf: (node: UntimedNode) => Pick<NodeTiming, 'durationMs' | 'source'>,
): { nodes: SpeechNode[]; durationMs: number } {
  const trackEndMs = new Map<string, number>();
  const timed = nodes.map((node) => {
    const startMs = trackEndMs.get(node.track) ?? 0;
    const { durationMs, source } = durationOf(node);
    trackEndMs.set(node.track, startMs + durationMs);
    return { ...node, timing: { startMs, durationMs, source } } as SpeechNode;
  });
  return { nodes: timed, durationMs: Math.max(0, ...trackEndMs.values()) };
}

/**
 * Returns a new frozen graph whose nodes listed in `measuredMs` (node id -> measured duration in
 * ms) carry `source: 'measured'`; start times of every later node on the same track move
 * accordingly. Unknown ids are ignored; the input graph is unchanged.
 */
export function withMeasuredDurations(graph: SpeechGraph, measuredMs: ReadonlyMap<string, number>): SpeechGraph {
  const { nodes, durationMs } = layOutTimeline(graph.nodes, (node) => {
    const measured = measuredMs.get(node.id);
    if (measured !== undefined && Number.isFinite(measured) && measured >= 0) return { durationMs: measured, source: 'measured' };
    const previous = (node as SpeechNode).timing;
    return { durationMs: previous.durationMs, source: previous.source };
  });
  const next: SpeechGraph = { ...graph, nodes, durationMs };
  return deepFreeze(next);
}
