/**
 * `planSynthesis`: walks a SpeechGraph into the ordered steps the engine performs: speak a
 * segment, stay silent, play a clip, report a mark. Speech steps are sentence-level, so the
 * engine can synthesize and play sentence by sentence.
 */
import type { SynthesisSegment } from '../graph/engine-output.js';
import { deepFreeze, type SpeechGraph, type SpeechNode } from '../graph/speech-graph.js';

/** Synthesize `segment` with a backend and play it. */
export interface SpeechStep {
  readonly kind: 'speech';
  readonly nodeId: string;
  /** Sentence of the segment; consecutive steps with the same index form one sentence. */
  readonly sentenceIndex: number;
  readonly segment: Readonly<SynthesisSegment>;
}

/** Play `durationMs` of silence. */
export interface SilenceStep {
  readonly kind: 'silence';
  readonly nodeId: string;
  readonly durationMs: number;
}

/** Play a local audio file (speak `fallbackText` if it cannot be played). */
export interface AudioStep {
  readonly kind: 'audio';
  readonly nodeId: string;
  readonly path: string;
  readonly fallbackText: string;
}

/** Report that playback reached mark `name`. */
export interface MarkStep {
  readonly kind: 'mark';
  readonly nodeId: string;
  readonly name: string;
}

/** One step of a synthesis plan. */
export type SynthesisStep = SpeechStep | SilenceStep | AudioStep | MarkStep;

/** Options of `planSynthesis`. */
export interface PlanOptions {
  /** Only this track (default: `main`). */
  track?: string;
}

function stepOf(node: SpeechNode, defaultLanguage: string | undefined): SynthesisStep {
  switch (node.type) {
    case 'text':
    case 'ssml': {
      const segment: SynthesisSegment = {
        text: node.text,
        language: node.language,
        ...(node.language === defaultLanguage ? { languageIsDefault: true } : {}),
        prosody: { ...node.prosody },
        nodeId: node.id,
        ...(node.voice !== undefined ? { voice: node.voice } : {}),
        ...(node.type === 'ssml' ? { ssml: node.ssml } : {}),
      };
      return { kind: 'speech', nodeId: node.id, sentenceIndex: node.sentenceIndex, segment };
    }
    case 'silence':
      return { kind: 'silence', nodeId: node.id, durationMs: node.durationMs };
    case 'audio':
      return { kind: 'audio', nodeId: node.id, path: node.path, fallbackText: node.fallbackText };
    case 'event':
      return { kind: 'mark', nodeId: node.id, name: node.name };
  }
}

/**
 * The steps of one track of `graph`, in playback order. The graph must be trusted: one from
 * `compile`, or one from outside that went through `parseSpeechGraph`.
 */
export function planSynthesis(graph: SpeechGraph, options: PlanOptions = {}): SynthesisStep[] {
  const track = options.track ?? 'main';
  // A node in the graph's language, when that language was the compiler's default (no option, no xml:lang that changed it).
  const defaultLanguage = graph.annotations.languageSource === 'default' ? graph.language : undefined;
  return graph.nodes.filter((node) => node.track === track).map((node) => deepFreeze(stepOf(node, defaultLanguage)));
}
