/**
 * zod schema of the SpeechGraph contract, for graphs that come from outside (files, HTTP, MCP,
 * plugins). `parseSpeechGraph` validates, checks the cross-node rules and returns a frozen graph.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { SPEECH_GRAPH_VERSION, deepFreeze, type SpeechGraph } from './speech-graph.js';

/** Largest pause or clip a graph may hold (1 hour), so a hostile graph cannot stall a stream. */
export const MAX_NODE_DURATION_MS = 3_600_000;

const finiteMs = z.number().finite().min(0).max(Number.MAX_SAFE_INTEGER);

/** Schema of the Prosody of a spoken node (same bounds the compiler clamps to). */
export const prosodySchema = z.strictObject({
  rate: z.number().finite().min(0.25).max(4),
  pitchSemitones: z.number().finite().min(-24).max(24),
  volumeDb: z.number().finite().min(-96).max(20),
});

const timingSchema = z.strictObject({
  startMs: finiteMs,
  durationMs: finiteMs,
  source: z.enum(['estimated', 'measured']),
});

const base = {
  id: z.string().min(1).max(64),
  track: z.string().min(1).max(64),
  timing: timingSchema,
  annotations: z.record(z.string(), z.json()),
};

const spoken = {
  ...base,
  text: z.string().max(1_000_000),
  sourceText: z.string().max(1_000_000),
  sentenceIndex: z.number().int().min(0),
  voice: z.string().min(1).max(200).optional(),
  language: z.string().min(2).max(35),
  prosody: prosodySchema,
  emotion: z.string().min(1).max(64).optional(),
};

/** Schema of one SpeechGraph node. */
export const speechNodeSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...spoken, type: z.literal('text') }),
  z.strictObject({ ...spoken, type: z.literal('ssml'), ssml: z.string().min(1).max(2_000_000) }),
  z.strictObject({
    ...base,
    type: z.literal('silence'),
    durationMs: z.number().finite().min(0).max(MAX_NODE_DURATION_MS),
    reason: z.enum(['break', 'sentence', 'paragraph']),
  }),
  z.strictObject({
    ...base,
    type: z.literal('audio'),
    path: z.string().min(1).max(4096).refine((path) => path.startsWith('/'), 'expected an absolute local path'),
    fallbackText: z.string().max(1_000_000),
  }),
  z.strictObject({ ...base, type: z.literal('event'), name: z.string().min(1).max(200) }),
]);

/** Schema of a whole SpeechGraph (structure only; see `parseSpeechGraph` for cross-node rules). */
export const speechGraphSchema = z.strictObject({
  version: z.literal(SPEECH_GRAPH_VERSION),
  language: z.string().min(2).max(35),
  nodes: z.array(speechNodeSchema).max(100_000),
  durationMs: finiteMs,
  annotations: z.record(z.string(), z.json()),
});

/**
 * Validates a graph from outside and returns it deep-frozen. Throws `InputError` (`INPUT_INVALID`)
 * naming the field, or `GRAPH_INVALID` when node ids repeat.
 */
export function parseSpeechGraph(value: unknown): SpeechGraph {
  const graph = parseInput(speechGraphSchema, value, 'graph');
  const seen = new Set<string>();
  graph.nodes.forEach((node, index) => {
    if (seen.has(node.id)) {
      throw new InputError(`graph.nodes.${index}.id: duplicate node id ${JSON.stringify(node.id)}`, {
        code: 'GRAPH_INVALID',
        field: `graph.nodes.${index}.id`,
      });
    }
    seen.add(node.id);
  });
  return deepFreeze(structuredClone(graph) as SpeechGraph);
}
