/**
 * Turns runs into SpeechGraph nodes: cuts text into sentences (one node per sentence and style),
 * normalises it, applies preset/emotion/rate to every node's prosody, and puts pauses between
 * sentences and paragraphs unless an explicit break is already there.
 */
import type { Prosody } from '../graph/engine-output.js';
import type { UntimedNode } from '../graph/graph-timing.js';
import type { Annotations, SilenceReason } from '../graph/speech-graph.js';
import { EMOTIONS, clampProsody, combineProsody, type EmotionName } from './emotion.js';
import { normalizerFor } from './normalize/normalizer.js';
import type { Run, RunStyle, TextRun } from './runs.js';
import { sentenceSpans, type SentenceSpan } from './sentences.js';
import { MAX_BREAK_MS } from './ssml/ssml-values.js';

/** Settings of one build. */
export interface BuildSettings {
  /** Prosody from the preset and the `rate` option, applied under every node's own. */
  baseProsody: Prosody;
  sentencePauseMs: number;
  paragraphPauseMs: number;
  maxSentenceChars: number;
  /** Emit `ssml` nodes (canonical SSML per node) instead of `text` nodes. */
  emitSsml: boolean;
  /** Every node's rate, whatever the preset, emotion or the text's own prosody ask (compile option `fixedRate`). */
  fixedRate?: number;
}

/** A piece of one sentence in one style, before normalisation. */
interface Piece {
  sentenceIndex: number;
  paragraphIndex: number;
  style: RunStyle;
  /** Consecutive parts; `spoken` parts are already normalised. */
  parts: { text: string; spoken?: string }[];
}

type Item = { kind: 'piece'; piece: Piece } | { kind: 'run'; run: Exclude<Run, TextRun> };

const SPEAKABLE = /[\p{L}\p{N}]/u;

function sameStyle(a: RunStyle, b: RunStyle): boolean {
  return (
    a.language === b.language && a.voice === b.voice && a.emotion === b.emotion && a.emphasis === b.emphasis &&
    a.relative.rate === b.relative.rate && a.relative.pitchSemitones === b.relative.pitchSemitones && a.relative.volumeDb === b.relative.volumeDb
  );
}

/** Cuts the text runs of each block (between boundaries) into sentence pieces, keeping run order. */
function toItems(runs: readonly Run[], maxSentenceChars: number): Item[] {
  const items: Item[] = [];
  let sentenceBase = 0;
  let paragraphIndex = 0;
  let block: Run[] = [];
  const closeBlock = () => {
    let blockText = '';
    const positioned = block.map((run) => {
      const start = blockText.length;
      if (run.kind === 'text') blockText += run.text;
      return { run, start, end: blockText.length };
    });
    const spans = sentenceSpans(blockText, { maxSentenceChars });
    // Runs and spans are both in text order: one cursor keeps this linear.
    let firstSpan = 0;
    for (const { run, start, end } of positioned) {
      if (run.kind !== 'text') {
        if (run.kind !== 'boundary') items.push({ kind: 'run', run });
        continue;
      }
      while (firstSpan < spans.length && (spans[firstSpan] as SentenceSpan).end <= start) firstSpan += 1;
      for (let spanIndex = firstSpan; spanIndex < spans.length; spanIndex++) {
        const span = spans[spanIndex] as SentenceSpan;
        if (span.start >= end) break;
        const from = Math.max(start, span.start);
        const to = Math.min(end, span.end);
        if (from >= to) continue;
        const parts = run.spoken !== undefined ? [{ text: run.text, spoken: run.spoken }] : [{ text: blockText.slice(from, to) }];
        items.push({ kind: 'piece', piece: { sentenceIndex: sentenceBase + spanIndex, paragraphIndex, style: run.style, parts } });
        // A say-as/sub run is spoken whole, in the sentence where it starts.
        if (run.spoken !== undefined) break;
      }
    }
    sentenceBase += spans.length;
    block = [];
  };
  for (const run of runs) {
    if (run.kind === 'boundary') {
      closeBlock();
      if (run.level === 'paragraph') paragraphIndex += 1;
      continue;
    }
    block.push(run);
  }
  closeBlock();
  return items;
}

/** Merges same-sentence pieces of equal style and folds punctuation-only pieces into neighbours. */
function mergePieces(items: Item[]): Item[] {
  const merged: Item[] = [];
  let pending: Piece | undefined;
  for (const item of items) {
    const previous = merged[merged.length - 1];
    if (item.kind === 'run') {
      merged.push(item);
      continue;
    }
    const piece = pending && pending.sentenceIndex === item.piece.sentenceIndex ? { ...item.piece, parts: [...pending.parts, ...item.piece.parts] } : item.piece;
    pending = undefined;
    const speakable = piece.parts.some((part) => part.spoken !== undefined ? part.spoken.trim() !== '' : SPEAKABLE.test(part.text));
    const joinable = previous?.kind === 'piece' && previous.piece.sentenceIndex === piece.sentenceIndex;
    if (joinable && (!speakable || sameStyle(previous.piece.style, piece.style))) {
      previous.piece.parts.push(...piece.parts);
    } else if (!speakable) {
      pending = piece;
    } else {
      merged.push({ kind: 'piece', piece: { ...piece, parts: [...piece.parts] } });
    }
  }
  return merged;
}

function spokenText(piece: Piece): { text: string; sourceText: string } {
  const normalizer = normalizerFor(piece.style.language);
  const spoken: string[] = [];
  let raw = '';
  const flushRaw = () => {
    if (raw.trim() !== '') spoken.push(normalizer.normalize(raw, piece.style.language));
    raw = '';
  };
  for (const part of piece.parts) {
    if (part.spoken === undefined) {
      raw += part.text;
      continue;
    }
    flushRaw();
    spoken.push(part.spoken);
  }
  flushRaw();
  const text = spoken.join(' ').replace(/\s+/g, ' ').replace(/\s+([.,!?;:])/g, '$1').trim();
  return { text, sourceText: piece.parts.map((part) => part.text).join('').replace(/\s+/g, ' ').trim() };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A canonical SSML document for one node (what SSML-native backends receive). */
export function canonicalSsml(text: string, prosody: Prosody, language: string): string {
  const signed = (value: number, unit: string) => `${value >= 0 ? '+' : ''}${value}${unit}`;
  const rate = `${Math.round(prosody.rate * 100)}%`;
  return `<speak version="1.1" xml:lang="${escapeXml(language)}"><prosody rate="${rate}" pitch="${signed(prosody.pitchSemitones, 'st')}" volume="${signed(prosody.volumeDb, 'dB')}">${escapeXml(text)}</prosody></speak>`;
}

function pieceNode(piece: Piece, settings: BuildSettings, id: string): UntimedNode | undefined {
  const { text, sourceText } = spokenText(piece);
  if (text === '') return undefined;
  const emotion: EmotionName | undefined = piece.style.emotion;
  const emotional = emotion ? combineProsody(settings.baseProsody, EMOTIONS[emotion]) : settings.baseProsody;
  const shaped = combineProsody(emotional, piece.style.relative);
  const prosody = clampProsody(settings.fixedRate === undefined ? shaped : { ...shaped, rate: settings.fixedRate });
  const annotations: Annotations = piece.style.emphasis ? { emphasis: piece.style.emphasis } : {};
  const common = {
    id,
    track: 'main',
    annotations,
    text,
    sourceText,
    sentenceIndex: piece.sentenceIndex,
    language: piece.style.language,
    prosody,
    ...(piece.style.voice ? { voice: piece.style.voice } : {}),
    ...(emotion ? { emotion } : {}),
  };
  return settings.emitSsml ? { ...common, type: 'ssml', ssml: canonicalSsml(text, prosody, piece.style.language) } : { ...common, type: 'text' };
}

/** Builds the untimed nodes of a graph from runs. */
export function buildNodes(runs: readonly Run[], settings: BuildSettings): UntimedNode[] {
  const nodes: UntimedNode[] = [];
  /** Sentence pauses to place after the node at an index (decided once the next sentence starts). */
  const pauseAfter = new Map<number, UntimedNode>();
  const nextId = () => `n${nodes.length}`;
  let lastSpoken: { sentenceIndex: number; paragraphIndex: number; emotion?: EmotionName; nodeIndex: number } | undefined;
  let silenceSinceSpoken = false;
  /** Break time since the last speech or clip: consecutive breaks together stay within MAX_BREAK_MS. */
  let breakRunMs = 0;
  for (const item of mergePieces(toItems(runs, settings.maxSentenceChars))) {
    if (item.kind === 'run') {
      const run = item.run;
      if (run.kind === 'break') {
        const durationMs = Math.min(run.durationMs, MAX_BREAK_MS - breakRunMs);
        breakRunMs += durationMs;
        if (durationMs > 0) nodes.push({ id: nextId(), track: 'main', annotations: {}, type: 'silence', durationMs, reason: 'break' });
        silenceSinceSpoken = true;
      } else if (run.kind === 'audio') {
        nodes.push({ id: nextId(), track: 'main', annotations: {}, type: 'audio', path: run.path, fallbackText: run.fallbackText });
        breakRunMs = 0;
      } else if (run.kind === 'mark') {
        nodes.push({ id: nextId(), track: 'main', annotations: {}, type: 'event', name: run.name });
      }
      continue;
    }
    const { piece } = item;
    if (lastSpoken && piece.sentenceIndex !== lastSpoken.sentenceIndex && !silenceSinceSpoken) {
      // The pause goes right after the previous sentence, before any mark or clip that follows it.
      const reason: SilenceReason = piece.paragraphIndex !== lastSpoken.paragraphIndex ? 'paragraph' : 'sentence';
      const pauseScale = lastSpoken.emotion ? EMOTIONS[lastSpoken.emotion].pauseScale : 1;
      const baseMs = reason === 'paragraph' ? settings.paragraphPauseMs : settings.sentencePauseMs;
      const durationMs = Math.round(baseMs * pauseScale);
      if (durationMs > 0) pauseAfter.set(lastSpoken.nodeIndex, { id: '', track: 'main', annotations: {}, type: 'silence', durationMs, reason });
    }
    const node = pieceNode(piece, settings, nextId());
    if (!node) continue;
    nodes.push(node);
    breakRunMs = 0;
    lastSpoken = { sentenceIndex: piece.sentenceIndex, paragraphIndex: piece.paragraphIndex, nodeIndex: nodes.length - 1, ...(piece.style.emotion ? { emotion: piece.style.emotion } : {}) };
    silenceSinceSpoken = false;
  }
  // Ids follow the final order, with the pauses placed right after their sentences.
  const ordered = nodes.flatMap((node, index) => {
    const pause = pauseAfter.get(index);
    return pause ? [node, pause] : [node];
  });
  return ordered.map((node, index) => ({ ...node, id: `n${index}` }));
}
