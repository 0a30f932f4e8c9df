/**
 * Content-filter hooks: the host's `contentFilter(text, context)` sees every text before it is
 * synthesized and answers `allow()`, `deny(reason)` or `replace(text)`. A denial throws
 * `ContentFilterDeniedError`, which the engine turns into a registrar `fail` with the reason
 * (attested) before any audio; a replacement is compiled and spoken instead. A filter that throws
 * or answers something else fails closed (`CONTENT_FILTER_FAILED`). A live text source is filtered
 * piece by piece (the pieces the engine speaks: sentences, clauses), each before it is spoken.
 * `auditedContentFilter` logs every denial and replacement to an AuditLogger.
 */
import { z } from 'zod';
import { VoiceSoundboardError } from '../errors.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import { cutTextSource, textStreamOptionsSchema, type TextStreamOptions } from '../streaming/text-source.js';
import type { AuditLogger } from './audit-log.js';

/** What a content filter answers. */
export type ContentFilterDecision = { readonly action: 'allow' } | { readonly action: 'deny'; readonly reason: string } | { readonly action: 'replace'; readonly text: string };

/** What a content filter knows about the text it judges. */
export interface ContentFilterContext {
  /** The registrar stream the text belongs to. */
  readonly streamId: string;
  /** The actor speaking, `"kind:id"`. */
  readonly actor: string;
  /** How the text will be read (`auto`, `text`, `markup`, `ssml`). */
  readonly format: string;
  /** True for a piece of a live text source (the stream goes on after it). */
  readonly live: boolean;
  /**
   * The words that will be spoken, as the compiler reads `text` (entities decoded, `<sub>` aliases,
   * `<say-as>` and numbers read out), space-joined, NFKC-folded and without invisible characters
   * (`judgeableText`): judge this too, since markup or a soft hyphen can spell a word the raw text
   * does not contain (`&#112;assword`, `pass\u00ADword`). For a live piece it is the piece as the
   * engine compiles it (plugins' `transformText` included).
   */
  readonly spokenText: string;
  readonly voice?: string;
  readonly sessionId?: string;
  readonly userId?: string;
}

/** A host's content filter (synchronous or asynchronous). */
export type ContentFilter = (text: string, context: ContentFilterContext) => ContentFilterDecision | Promise<ContentFilterDecision>;

/** Speak the text as it is. */
export function allow(): ContentFilterDecision {
  return { action: 'allow' };
}

/** Refuse the text: the stream fails with `reason` (attested). */
export function deny(reason: string): ContentFilterDecision {
  return { action: 'deny', reason };
}

/** Speak `text` instead. */
export function replace(text: string): ContentFilterDecision {
  return { action: 'replace', text };
}

/** A content filter denied the text. `reason` is the filter's. */
export class ContentFilterDeniedError extends VoiceSoundboardError {
  constructor(readonly reason: string) {
    super('CONTENT_FILTER_DENIED', `content filter denied the text: ${reason}`);
  }
}

const decisionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('allow') }),
  z.strictObject({ action: z.literal('deny'), reason: z.string().min(1).max(1000) }),
  z.strictObject({ action: z.literal('replace'), text: z.string().max(10_000_000) }),
]);

/** Runs `filter` on `text`: the text to speak, or `ContentFilterDeniedError`; a broken filter fails closed. */
export async function applyContentFilter(filter: ContentFilter, text: string, context: ContentFilterContext): Promise<string> {
  let answer: unknown;
  try {
    answer = await filter(text, context);
  } catch (error) {
    throw new VoiceSoundboardError('CONTENT_FILTER_FAILED', `the content filter threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const decision = decisionSchema.safeParse(answer);
  if (!decision.success) throw new VoiceSoundboardError('CONTENT_FILTER_FAILED', 'the content filter answered neither allow(), deny(reason) nor replace(text)', { cause: decision.error });
  if (decision.data.action === 'deny') throw new ContentFilterDeniedError(decision.data.reason);
  return decision.data.action === 'replace' ? decision.data.text : text;
}

/**
 * The engine's hook: `input` filtered by `filter` (unchanged without one). A string is judged
 * whole; a live source is cut as the engine cuts it and each piece judged before it passes on,
 * its `spokenText` from `compilePiece` (the engine's own compile of a piece).
 */
export async function filterSpeechInput(
  filter: ContentFilter | undefined,
  input: string | AsyncIterable<string>,
  context: Omit<ContentFilterContext, 'live' | 'spokenText'>,
  textStream: TextStreamOptions | undefined,
  signal: AbortSignal,
  compiled: SpeechGraph | null,
  compilePiece?: (piece: string) => SpeechGraph,
): Promise<string | AsyncIterable<string>> {
  if (filter === undefined) return input;
  if (typeof input === 'string') return applyContentFilter(filter, input, { ...context, live: false, spokenText: compiled ? spokenTextOf(compiled) : judgeableText(input) });
  const options = textStreamOptionsSchema.parse(textStream ?? {});
  // A piece's spoken words as the engine will compile it (plugins' transformText included); a piece that does not compile fails there anyway.
  const spokenOf = (piece: string): string => {
    try {
      return compilePiece ? spokenTextOf(compilePiece(piece)) : judgeableText(piece);
    } catch {
      return judgeableText(piece);
    }
  };
  return (async function* filtered() {
    for await (const piece of cutTextSource(input, options, signal)) {
      // The engine speaks each judged piece as it is (it does not cut them again).
      yield await applyContentFilter(filter, piece, { ...context, live: true, spokenText: spokenOf(piece) });
    }
  })();
}

/** Characters a reader and a synthesizer skip (soft hyphen, zero-width, joiners, BOM, variation selectors, tags). */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Text as a filter should judge it: NFKC-folded (fullwidth and compatibility letters become their
 * plain forms) with default-ignorable characters removed, since a backend reads "pass\u00ADword"
 * as "password".
 */
export function judgeableText(text: string): string {
  return text.normalize('NFKC').replace(IGNORABLE, '');
}

/** The words a graph speaks, space-joined (speech nodes' spoken text, clips' fallback text), as `judgeableText`. */
export function spokenTextOf(graph: SpeechGraph): string {
  return judgeableText(
    graph.nodes
      .map((node) => (node.type === 'text' || node.type === 'ssml' ? node.text : node.type === 'audio' ? node.fallbackText : ''))
      .filter((text) => text !== '')
      .join(' '),
  );
}

/** `record` without its undefined fields (for optional context fields under exactOptionalPropertyTypes). */
export function pickDefined<T extends Record<string, string | undefined>>(record: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: string };
}

/** `filter` with every denial and replacement logged to `audit` (the spoken text only if the logger allows). */
export function auditedContentFilter(filter: ContentFilter, audit: AuditLogger): ContentFilter {
  return async (text, context) => {
    const decision = await filter(text, context);
    const common = { actor: context.actor, streamId: context.streamId, spokenText: text, ...(context.sessionId !== undefined ? { client: context.sessionId } : {}) };
    if (decision?.action === 'deny') audit.contentFiltered({ ...common, decision: 'deny', reason: decision.reason });
    if (decision?.action === 'replace') audit.contentFiltered({ ...common, decision: 'replace', reason: 'replaced by the content filter' });
    return decision;
  };
}
