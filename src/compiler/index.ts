/**
 * The compiler's public surface: compile text into a SpeechGraph, plan its synthesis, split
 * sentences for streaming, and the tables (emotions, presets, normalisers) behind them.
 */
export { compile, looksLikeSsml } from './compile.js';
export { compileOptionsSchema, DEFAULT_MAX_DEPTH, DEFAULT_MAX_INPUT_CHARS, INPUT_FORMATS } from './options.js';
export type { CompileOptions, ResolvedCompileOptions } from './options.js';
export { joinSentenceSteps, planSynthesis } from './plan.js';
export type { AudioStep, MarkStep, PlanOptions, SilenceStep, SpeechStep, SynthesisStep } from './plan.js';
export { DEFAULT_MAX_SENTENCE_CHARS, SentenceStream, sentenceSpans, splitSentences } from './sentences.js';
export type { SentenceSpan, SplitOptions } from './sentences.js';
export { DEFAULT_PACING, EMOTION_NAMES, EMOTIONS, PRESET_NAMES, PRESETS, PROSODY_LIMITS } from './emotion.js';
export type { EmotionName, EmotionProfile, PresetName, PresetProfile } from './emotion.js';
export { COMPILER_ERROR_CODES } from './input-errors.js';
export type { CompilerErrorCode } from './input-errors.js';
export { NORMALIZED_LANGUAGES, normalizeText, normalizerFor } from './normalize/normalizer.js';
export { SAY_AS_KINDS } from './normalize/language-normalizer.js';
export type { LanguageNormalizer, SayAsKind } from './normalize/language-normalizer.js';
