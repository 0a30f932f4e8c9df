/**
 * What crosses a hook, in both directions: the views the host builds (plain copies of what a hook
 * may read) and the zod schemas its results must pass. Nothing a hook returns is used before it
 * passes these: text has a length bound, PCM must be a finite Float32Array of the input's length,
 * graph mutations and schedule proposals are closed vocabularies.
 */
import { z } from 'zod';
import { SANE_SAMPLE_LIMIT } from '../audio/pcm.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import { SCHEDULE_POLICIES } from '../streaming/schedule-policy.js';

/** Longest text `transformText` may return (characters). */
export const MAX_TRANSFORMED_CHARS = 1_000_000;
/** Most mutations one `onGraph` call may propose. */
export const MAX_GRAPH_MUTATIONS = 256;
/** Longest PCM `synthesize` may return per segment (10 minutes at 48 kHz). */
export const MAX_SYNTH_SAMPLES = 48_000 * 600;

/** `transformText` returns text. */
export const transformTextOutputSchema = z.string().max(MAX_TRANSFORMED_CHARS);

/** Keys an annotation may not have: assigning them would change an object's prototype, not add a key. */
const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** One proposed graph mutation (`onGraph`). */
export const graphMutationSchema = z.discriminatedUnion('op', [
  /** A pause of `durationMs` after the node `afterNodeId`. */
  z.strictObject({ op: z.literal('add_pause'), afterNodeId: z.string().min(1).max(64), durationMs: z.number().finite().min(1).max(10_000) }),
  /** New prosody values on a text node (the graph's bounds apply). */
  z.strictObject({
    op: z.literal('set_prosody'),
    nodeId: z.string().min(1).max(64),
    rate: z.number().finite().min(0.25).max(4).optional(),
    pitchSemitones: z.number().finite().min(-24).max(24).optional(),
    volumeDb: z.number().finite().min(-96).max(20).optional(),
  }),
  /** An annotation (e.g. a DSP hint) on a node, or on the graph without `nodeId`. */
  z.strictObject({
    op: z.literal('annotate'),
    nodeId: z.string().min(1).max(64).optional(),
    key: z.string().min(1).max(64).refine((key) => !PROTOTYPE_KEYS.includes(key), 'expected a key that names no prototype slot (__proto__, constructor, prototype)'),
    value: z.json(),
  }),
]);
/** A proposed graph mutation. */
export type GraphMutation = z.output<typeof graphMutationSchema>;

/** `onGraph` returns proposed mutations (or nothing). */
export const onGraphOutputSchema = z.array(graphMutationSchema).max(MAX_GRAPH_MUTATIONS).nullish();

/** `onSchedule` returns a proposal for the play being admitted (or nothing). */
export const onScheduleOutputSchema = z
  .strictObject({
    /** How this play should meet the plays already on the device. */
    policy: z.enum(SCHEDULE_POLICIES).optional(),
  })
  .nullish();
/** A schedule proposal. */
export type ScheduleProposal = NonNullable<z.output<typeof onScheduleOutputSchema>>;

/** `synthesize` returns PCM and its rate (and optional metadata). */
export const synthesizeOutputSchema = z.strictObject({
  pcm: z.instanceof(Float32Array).refine((pcm) => pcm.length <= MAX_SYNTH_SAMPLES, `expected at most ${MAX_SYNTH_SAMPLES} samples`),
  sampleRateHz: z.number().int().min(8000).max(192_000),
  metadata: z.strictObject({ phonemes: z.string().max(100_000).optional() }).optional(),
});

/** What `onGraph` sees: the graph's nodes as plain data, and the stream it belongs to. */
export interface GraphView {
  streamId: string;
  language: string;
  durationMs: number;
  nodes: Array<{ id: string; type: string; text?: string; durationMs?: number; prosody?: { rate: number; pitchSemitones: number; volumeDb: number }; annotations: unknown }>;
  annotations: unknown;
}

/** The view of `graph` an `onGraph` hook gets. */
export function graphViewOf(graph: SpeechGraph, streamId: string): GraphView {
  return {
    streamId,
    language: graph.language,
    durationMs: graph.durationMs,
    annotations: graph.annotations,
    nodes: graph.nodes.map((node) => ({
      id: node.id,
      type: node.type,
      annotations: node.annotations,
      ...(node.type === 'text' || node.type === 'ssml' ? { text: node.text, prosody: { ...node.prosody } } : {}),
      ...(node.type === 'silence' ? { durationMs: node.durationMs } : {}),
    })),
  };
}

/** What `onAudio` sees: a copy of one chunk's PCM (mono float32) and where it is. */
export interface ChunkView {
  streamId: string;
  index: number;
  kind: 'speech' | 'silence' | 'audio';
  sampleRateHz: number;
  /** 1 (mono) or 2 (interleaved stereo, e.g. a scene's mix). */
  channels: number;
  pcm: Float32Array;
}

/** Why `pcm` is not a valid `onAudio` result for an input of `length` samples (finite, within ±SANE_SAMPLE_LIMIT), or null. */
export function pcmProblem(pcm: unknown, length: number): string | null {
  if (!(pcm instanceof Float32Array)) return `expected a Float32Array (received ${pcm === null ? 'null' : typeof pcm === 'object' ? (pcm as object).constructor?.name ?? 'object' : typeof pcm})`;
  if (pcm.length !== length) return `expected ${length} samples, as many as the input (received ${pcm.length})`;
  for (let index = 0; index < pcm.length; index++) {
    const sample = pcm[index] as number;
    if (!Number.isFinite(sample)) return `sample ${index} is ${sample}, not a finite number`;
    if (Math.abs(sample) > SANE_SAMPLE_LIMIT) return `sample ${index} is ${sample}, beyond ±${SANE_SAMPLE_LIMIT} (+30 dBFS), the most the engine passes on`;
  }
  return null;
}
