/**
 * Voices and languages checked before a stream starts: every spoken node of a compiled graph asks
 * the backend (`SpeechBackend.checkVoice`, when it has one) whether it can speak the node's voice
 * and language, so an unknown voice or a language without a voice is an `InputError` at
 * validation, before any registrar request or synthesis, naming where it came from: the call's
 * option (`options.voice`, `options.language`) or the SSML element (`input:line:column`).
 * A backend whose check itself fails (e.g. not installed) is not refused here: synthesis reports it.
 */
import { InputError } from '../errors.js';
import type { SpeechBackend, VoiceRequest, VoiceRequestProblem } from '../backends/backend.js';
import type { SpeechGraph } from '../graph/speech-graph.js';

/** What the call asked for (the engine's parsed speak options). */
export interface VoiceCheckOptions {
  voice?: string | undefined;
  language?: string | undefined;
}

/** Line and column (1-based) of `offset` in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before[before.length - 1]?.length ?? 0) + 1}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where the input sets `attribute` to `value` inside a tag, as `input:line:column`, or undefined. */
function attributePosition(input: string, attribute: string, value: string): { field: string; tag: string } | undefined {
  const pattern = new RegExp(`<([A-Za-z][\\w:-]*)\\b[^>]*?\\b${escapeRegExp(attribute)}\\s*=\\s*(["'])\\s*${escapeRegExp(value)}\\s*\\2`, 'u');
  const match = pattern.exec(input);
  if (!match) return undefined;
  return { field: `input:${lineColumn(input, match.index)}`, tag: `<${match[1] ?? ''} ${attribute}="${value}">` };
}

function toInputError(problem: VoiceRequestProblem, request: VoiceRequest, options: VoiceCheckOptions, input: string | undefined): InputError {
  const optionField = problem.part === 'voice' ? 'voice' : 'language';
  const value = problem.part === 'voice' ? request.voice : request.language;
  const fromOption = options[optionField] !== undefined && options[optionField] === value;
  const located = !fromOption && input !== undefined && value !== undefined ? attributePosition(input, problem.part === 'voice' ? 'name' : 'xml:lang', value) : undefined;
  if (located) return new InputError(`${located.field.replace(':', ' ')}: ${located.tag}: ${problem.message}`, { code: problem.code, field: located.field });
  const field = fromOption || input === undefined || problem.part === 'language' ? `options.${optionField}` : 'input';
  return new InputError(`${field}: ${problem.message}`, { code: problem.code, field });
}

/**
 * Asks `backend` about every distinct voice/language of `graph`'s spoken nodes (or, for a live
 * source without a graph, the call's own); throws the first problem as an `InputError`.
 * `input` is the caller's text, used to name the SSML element at fault.
 */
export async function checkVoices(backend: SpeechBackend, graph: SpeechGraph | null, options: VoiceCheckOptions, input: string | undefined): Promise<void> {
  if (!backend.checkVoice) return;
  const requests = new Map<string, VoiceRequest>();
  const add = (voice: string | undefined, language: string | undefined) => {
    const request: VoiceRequest = { ...(voice !== undefined ? { voice } : {}), ...(language !== undefined ? { language } : {}) };
    requests.set(JSON.stringify([voice, language]), request);
  };
  if (graph === null) add(options.voice, options.language);
  else for (const node of graph.nodes) if (node.type === 'text' || node.type === 'ssml') add(options.voice ?? node.voice, node.language);
  for (const request of requests.values()) {
    const problem = await backend.checkVoice(request).catch(() => undefined);
    if (problem) throw toInputError(problem, request, options, input);
  }
}
