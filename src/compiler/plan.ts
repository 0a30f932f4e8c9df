/**
 * `planSynthesis`: walks a SpeechGraph into the ordered steps the engine performs: speak a
 * segment, stay silent, play a clip, report a mark. Speech steps are sentence-level, so the
 * engine can synthesize and play sentence by sentence.
 */
import type { Prosody, SegmentPart, SynthesisSegment } from '../graph/engine-output.js';
import { deepFreeze, type SpeechGraph, type SpeechNode } from '../graph/speech-graph.js';

/** Synthesize `segment` with a backend and play it. */
export interface SpeechStep {
  readonly kind: 'speech';
  readonly nodeId: string;
  /** Sentence of the segment; consecutive steps with the same index form one sentence. */
  readonly sentenceIndex: number;
  readonly segment: Readonly<SynthesisSegment>;
  /** SSML emphasis level of the node, when it is emphasised. */
  readonly emphasis?: string;
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
      const emphasis = node.annotations['emphasis'];
      return { kind: 'speech', nodeId: node.id, sentenceIndex: node.sentenceIndex, segment, ...(typeof emphasis === 'string' ? { emphasis } : {}) };
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

function sameProsody(a: Prosody, b: Prosody): boolean {
  return a.rate === b.rate && a.pitchSemitones === b.pitchSemitones && a.volumeDb === b.volumeDb;
}

/** Whether `next` may be spoken in the same call as `step` (same sentence, voice and language; no SSML). */
function joinable(step: SpeechStep, next: SpeechStep): boolean {
  const [a, b] = [step.segment, next.segment];
  return step.sentenceIndex === next.sentenceIndex && a.voice === b.voice && a.language === b.language && a.ssml === undefined && b.ssml === undefined;
}

/** One speech step for a run of same-sentence steps: `parts` keep each piece's delivery. */
function joinRun(run: readonly SpeechStep[]): SpeechStep {
  const first = run[0] as SpeechStep;
  if (run.length === 1) return first;
  const parts: SegmentPart[] = run.flatMap((step) => step.segment.parts ?? [{ text: step.segment.text, prosody: step.segment.prosody, ...(step.emphasis !== undefined ? { emphasis: step.emphasis } : {}) }]);
  // The delivery of most of the text is the segment's own, for backends that ignore parts.
  const weight = (prosody: Prosody) => parts.filter((part) => sameProsody(part.prosody, prosody)).reduce((sum, part) => sum + part.text.length, 0);
  const prosody = parts.map((part) => part.prosody).reduce((best, candidate) => (weight(candidate) > weight(best) ? candidate : best));
  const text = parts.map((part) => part.text).join(' ').replace(/\s+([.,!?;:])/g, '$1');
  const { ssml: _ssml, parts: _parts, ...base } = first.segment;
  void _ssml;
  void _parts;
  return deepFreeze({ kind: 'speech', nodeId: first.nodeId, sentenceIndex: first.sentenceIndex, segment: { ...base, text, prosody: { ...prosody }, parts } });
}

/**
 * Joins consecutive speech steps of one sentence (emphasis, a prosody span inside it) into one
 * step whose segment has `parts`, for a backend with `inlineProsody`: the sentence is synthesized
 * in one call, so an emphasised word leaves no hole and the sentence keeps one intonation. A mark,
 * a pause or a clip between them, a voice or a language change keeps them apart.
 */
export function joinSentenceSteps(steps: readonly SynthesisStep[]): SynthesisStep[] {
  const out: SynthesisStep[] = [];
  let run: SpeechStep[] = [];
  const close = () => {
    if (run.length > 0) out.push(joinRun(run));
    run = [];
  };
  for (const step of steps) {
    if (step.kind !== 'speech') {
      close();
      out.push(step);
      continue;
    }
    const last = run[run.length - 1];
    if (last && !joinable(last, step)) close();
    run.push(step);
  }
  close();
  return out;
}
