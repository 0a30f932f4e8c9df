/**
 * `compile`: text (plain, light markup or the SSML subset) -> a frozen, versioned SpeechGraph.
 * Pure and deterministic: the same input and options always give an equal graph; nothing is read
 * from disk (audio paths are checked for form, the engine opens them).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { NEUTRAL_PROSODY, type Prosody } from '../graph/engine-output.js';
import { estimateNodeMs, layOutTimeline } from '../graph/graph-timing.js';
import { SPEECH_GRAPH_VERSION, deepFreeze, type Annotations, type SpeechGraph } from '../graph/speech-graph.js';
import { parseInput } from '../validation.js';
import { DEFAULT_PACING, PRESETS, combineProsody, prosodyOf, type EmotionName, type PresetName } from './emotion.js';
import { buildNodes } from './graph-builder.js';
import { COMPILER_ERROR_CODES } from './input-errors.js';
import { markupToRuns } from './markup.js';
import { compileOptionsSchema, type CompileOptions, type ResolvedCompileOptions } from './options.js';
import { neutralStyle, type Run } from './runs.js';
import { parseSsml } from './ssml/ssml-parser.js';
import { ssmlToRuns } from './ssml/ssml-to-runs.js';

/** Whether `input` looks like SSML (what `format: 'auto'` checks). */
export function looksLikeSsml(input: string): boolean {
  return /^\uFEFF?\s*<(?:speak[\s>/]|\?xml\s)/.test(input);
}

function readRuns(input: string, format: 'text' | 'ssml' | 'markup', options: ResolvedCompileOptions): Run[] {
  const style = neutralStyle(options.language, options.voice, options.emotion as EmotionName | undefined);
  switch (format) {
    case 'ssml': {
      const root = parseSsml(input, { lenient: options.lenient, maxDepth: options.maxDepth, maxInputChars: options.maxInputChars });
      return ssmlToRuns(root, style, { input, lenient: options.lenient, allowAudio: options.allowAudio, ...(options.audioRoot ? { audioRoot: options.audioRoot } : {}) });
    }
    case 'markup':
      return markupToRuns(input, style, options.lenient);
    case 'text':
      return input.split(/\n[^\S\n]*\n\s*/).flatMap((paragraph, index): Run[] => [
        ...(index > 0 ? [{ kind: 'boundary', level: 'paragraph' } as const] : []),
        { kind: 'text', text: paragraph, style },
      ]);
  }
}

/**
 * Compiles `input` into a SpeechGraph. Throws `InputError`: `INPUT_INVALID` for bad options
 * (naming the field), `INPUT_TOO_LARGE`, and for SSML/markup `SSML_INVALID`, `SSML_DTD_FORBIDDEN`,
 * `SSML_TOO_DEEP`, `SSML_AUDIO_FORBIDDEN`, `MARKUP_INVALID`, each naming line:column.
 */
export function compile(input: string, options: CompileOptions = {}): SpeechGraph {
  const text = parseInput(z.string(), input, 'input');
  const resolved = parseInput(compileOptionsSchema, options, 'options');
  if (text.length > resolved.maxInputChars) {
    throw new InputError(`input: ${text.length} characters is more than maxInputChars (${resolved.maxInputChars})`, {
      code: COMPILER_ERROR_CODES.inputTooLarge,
      field: 'input',
    });
  }
  const format = resolved.format === 'auto' ? (looksLikeSsml(text) ? 'ssml' : 'markup') : resolved.format;
  const preset = resolved.preset ? PRESETS[resolved.preset as PresetName] : undefined;
  const presetProsody: Prosody = preset ? prosodyOf(preset) : { ...NEUTRAL_PROSODY };
  const baseProsody = combineProsody(presetProsody, { rate: resolved.rate ?? 1, pitchSemitones: 0, volumeDb: 0 });
  const runs = readRuns(text, format, resolved);
  const untimed = buildNodes(runs, {
    baseProsody,
    sentencePauseMs: preset?.sentencePauseMs ?? DEFAULT_PACING.sentencePauseMs,
    paragraphPauseMs: preset?.paragraphPauseMs ?? DEFAULT_PACING.paragraphPauseMs,
    maxSentenceChars: resolved.maxSentenceChars,
    emitSsml: resolved.emitSsml,
    ...(resolved.fixedRate !== undefined ? { fixedRate: resolved.fixedRate } : {}),
  });
  const { nodes, durationMs } = layOutTimeline(untimed, (node) => ({ durationMs: estimateNodeMs(node), source: 'estimated' }));
  const annotations: Annotations = {
    format,
    // The caller gave no language: `graph.language` is the default, which a backend may replace by its voice's own.
    ...(options.language === undefined ? { languageSource: 'default' } : {}),
    ...(resolved.preset ? { preset: resolved.preset } : {}),
    ...(resolved.emotion ? { emotion: resolved.emotion } : {}),
  };
  const graph: SpeechGraph = { version: SPEECH_GRAPH_VERSION, language: resolved.language, nodes, durationMs, annotations };
  return deepFreeze(graph);
}
