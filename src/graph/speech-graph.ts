/**
 * The SpeechGraph contract (frozen, versioned): what the compiler produces and the engine walks.
 * A graph is an ordered list of nodes on one or more tracks. Each node carries its own voice,
 * language and prosody (no single-voice assumption), a timing (estimated at compile time,
 * measured after synthesis) and free-form `annotations`, the extension point for later DSP,
 * spatial or caption data. Graphs are deep-frozen: "filling in" timings makes a new graph.
 */
import type { Prosody } from './engine-output.js';

/** Version of the SpeechGraph contract. Bump the major on breaking changes. */
export const SPEECH_GRAPH_VERSION = '1.0.0';

/** JSON-compatible value (what annotations may hold, so graphs serialise losslessly). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Free-form, JSON-compatible data attached to a node or graph (DSP, spatial, captions...). */
export type Annotations = Readonly<Record<string, JsonValue>>;

/** Where a node's timing comes from. */
export type TimingSource = 'estimated' | 'measured';

/** A node's place on its track's timeline. */
export interface NodeTiming {
  /** Start on the node's track, in ms from the start of the graph. */
  readonly startMs: number;
  /** Duration in ms (0 for events; 0 for audio clips until measured). */
  readonly durationMs: number;
  /** `estimated` before synthesis, `measured` once the engine has filled it in. */
  readonly source: TimingSource;
}

/** Fields every node has. */
interface NodeBase {
  /** Unique within the graph, stable for one compile (e.g. `n4`). */
  readonly id: string;
  /** Playback track; the compiler puts everything on `main`. Several tracks may play at once. */
  readonly track: string;
  readonly timing: NodeTiming;
  readonly annotations: Annotations;
}

/** Fields shared by spoken nodes (text and ssml). */
interface SpokenNodeBase extends NodeBase {
  /** Normalised text to speak (numbers, dates, abbreviations expanded). */
  readonly text: string;
  /** The text as the user wrote it (before normalisation), for captions. */
  readonly sourceText: string;
  /** Index of the sentence this node belongs to (0-based); a sentence may span several nodes. */
  readonly sentenceIndex: number;
  /** Voice id for the backend, or undefined for the backend's default voice. */
  readonly voice?: string;
  /** BCP-47 language, e.g. `en-US`. */
  readonly language: string;
  /** Final prosody (preset, emotion, SSML prosody and emphasis already combined). */
  readonly prosody: Readonly<Prosody>;
  /** Emotion the prosody was derived from, if any (for expressive backends). */
  readonly emotion?: string;
}

/** Plain text for a backend to synthesize. */
export interface TextNode extends SpokenNodeBase {
  readonly type: 'text';
}

/** A canonical SSML rendering of one text run, for backends that accept SSML natively. */
export interface SsmlNode extends SpokenNodeBase {
  readonly type: 'ssml';
  /** A complete `<speak>` document equivalent to `text` + `prosody`. */
  readonly ssml: string;
}

/** Why a silence is there. */
export type SilenceReason = 'break' | 'sentence' | 'paragraph';

/** A pause. */
export interface SilenceNode extends NodeBase {
  readonly type: 'silence';
  readonly durationMs: number;
  readonly reason: SilenceReason;
}

/** A local audio clip to play in place (SSML `<audio>`, opt-in). */
export interface AudioNode extends NodeBase {
  readonly type: 'audio';
  /** Absolute path of a local file. */
  readonly path: string;
  /** Normalised text to speak if the clip cannot be played ('' when none). */
  readonly fallbackText: string;
}

/** A named point in the timeline (SSML `<mark>`), reported when playback reaches it. */
export interface EventNode extends NodeBase {
  readonly type: 'event';
  readonly name: string;
}

/** Any node of a SpeechGraph. */
export type SpeechNode = TextNode | SsmlNode | SilenceNode | AudioNode | EventNode;

/** The node type names. */
export type SpeechNodeType = SpeechNode['type'];

/** A compiled utterance: nodes in playback order, deep-frozen. */
export interface SpeechGraph {
  readonly version: typeof SPEECH_GRAPH_VERSION;
  /** Default BCP-47 language of the graph (nodes may differ). */
  readonly language: string;
  readonly nodes: readonly SpeechNode[];
  /** Sum of node durations on the longest track, in ms (estimated until measured). */
  readonly durationMs: number;
  readonly annotations: Annotations;
}

/**
 * Freezes `value` and everything reachable from it (cycles are fine); returns the same object.
 * The contract's types are already `readonly` at every level, so the type is unchanged.
 */
export function deepFreeze<T>(value: T): T {
  freezeInto(value, new WeakSet<object>());
  return value;
}

function freezeInto(value: unknown, seen: WeakSet<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  // Typed arrays cannot be frozen (the engine's PCM never lives in a graph anyway).
  if (ArrayBuffer.isView(value)) return;
  seen.add(value);
  // Recurse even into already-frozen objects: a shallow freeze elsewhere must not leave holes.
  for (const key of Reflect.ownKeys(value)) freezeInto((value as Record<PropertyKey, unknown>)[key], seen);
  Object.freeze(value);
}
