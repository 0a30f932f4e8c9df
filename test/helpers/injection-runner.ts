/**
 * Runs the injection corpus (test/fixtures/security/injection-corpus.ts) through a face and judges
 * each outcome. A payload *succeeds* (an injection) when, in a face that must speak it literally,
 * anything but plain speech came out (a mark, a clip, a break, a voice, a prosody or emphasis
 * change); or, in a face that reads markup, when the result is beyond the caps: a break run longer
 * than MAX_BREAK_MS, a rate or pitch or volume outside PROSODY_LIMITS, an `<audio>` clip read
 * without allowAudio, nesting deeper than maxDepth, an entity expanded, a mark name that is not a
 * safe token, or an error that is not a coded `VoiceSoundboardError` (a crash). A refusal with a
 * coded error is never a success. Faces: compile (API), the engine, the CLI; the MCP face calls
 * `judgeOutcome` with what its tool returned.
 */
import { compile, PROSODY_LIMITS, type CompileOptions } from '../../src/compiler/index.js';
import { parseSsml, type SsmlElement } from '../../src/compiler/ssml/ssml-parser.js';
import { MARK_NAME_PATTERN } from '../../src/compiler/ssml/ssml-to-runs.js';
import { MAX_BREAK_MS } from '../../src/compiler/ssml/ssml-values.js';
import { VoiceSoundboardError } from '../../src/errors.js';
import { NEUTRAL_PROSODY } from '../../src/graph/engine-output.js';
import type { SpeechGraph } from '../../src/graph/speech-graph.js';
import { ssml } from '../../src/security/ssml-template.js';
import { ENTITY_MARKER, type InjectionPayload } from '../fixtures/security/injection-corpus.js';

/** How a face must treat the payload: speak it as text, or read markup within the caps. */
export type FaceMode = 'literal' | 'bounded';

/** What came out of one payload in one face, in terms the judge reads. */
export interface FaceOutput {
  /** Marks that reached events. */
  marks: readonly string[];
  /** Silence runs between sounds, in ms (consecutive silences summed). */
  silenceRunsMs: readonly number[];
  /** Silences made by a break (`literal` faces must have none). */
  breaks: number;
  /** Clips read from files. */
  clips: readonly string[];
  /** Prosody of each spoken piece. */
  prosody: ReadonlyArray<{ rate: number; pitchSemitones: number; volumeDb: number }>;
  /** Voices and emphasis asked for by markup. */
  voices: readonly string[];
  emphasis: number;
  /** Source text of what was spoken, joined. */
  spokenText: string;
}

/** The verdict for one payload in one face. */
export interface Verdict {
  face: string;
  id: string;
  outcome: 'refused' | 'spoken';
  /** Why this counts as a successful injection, or null. */
  success: string | null;
  /** The refusal's code. */
  code?: string;
}

/** Pause allowance on top of MAX_BREAK_MS for silence runs seen in audio (sentence/paragraph pauses and edge margins). */
export const SILENCE_SLACK_MS = 1500;

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Why `output` is a successful injection of `payload` in a face of `mode`, or null. */
export function judgeOutcome(payload: InjectionPayload, mode: FaceMode, output: FaceOutput): string | null {
  if (mode === 'literal') {
    if (output.marks.length > 0) return `a mark reached events: ${JSON.stringify(output.marks[0])}`;
    if (output.clips.length > 0) return `a clip was read: ${output.clips[0]}`;
    if (output.breaks > 0) return 'a break took effect';
    if (output.voices.length > 0) return `a voice was chosen: ${output.voices[0]}`;
    if (output.emphasis > 0) return 'emphasis took effect';
    const changed = output.prosody.find((prosody) => prosody.rate !== NEUTRAL_PROSODY.rate || prosody.pitchSemitones !== NEUTRAL_PROSODY.pitchSemitones || prosody.volumeDb !== NEUTRAL_PROSODY.volumeDb);
    if (changed) return `prosody changed: ${JSON.stringify(changed)}`;
  }
  const badMark = output.marks.find((name) => !MARK_NAME_PATTERN.test(name));
  if (badMark !== undefined) return `an unsafe mark name reached events: ${JSON.stringify(badMark.slice(0, 40))}`;
  if (output.clips.length > 0) return `a clip was read without allowAudio: ${output.clips[0]}`;
  const longRun = output.silenceRunsMs.find((run) => run > MAX_BREAK_MS + SILENCE_SLACK_MS);
  if (longRun !== undefined) return `a silence of ${longRun} ms, beyond the ${MAX_BREAK_MS} ms cap`;
  for (const prosody of output.prosody) {
    if (prosody.rate > PROSODY_LIMITS.rate.max || prosody.rate < PROSODY_LIMITS.rate.min) return `rate ${prosody.rate} beyond the cap`;
    if (Math.abs(prosody.pitchSemitones) > PROSODY_LIMITS.pitchSemitones.max) return `pitch ${prosody.pitchSemitones} st beyond the cap`;
    if (prosody.volumeDb > PROSODY_LIMITS.volumeDb.max || prosody.volumeDb < PROSODY_LIMITS.volumeDb.min) return `volume ${prosody.volumeDb} dB beyond the cap`;
  }
  if (count(output.spokenText, ENTITY_MARKER) > count(payload.text, ENTITY_MARKER)) return 'an entity was expanded';
  return null;
}

/** What a compiled graph would do, for the judge. */
export function graphOutput(graph: SpeechGraph): FaceOutput {
  const silenceRunsMs: number[] = [];
  let run = 0;
  const output = { marks: [] as string[], breaks: 0, clips: [] as string[], prosody: [] as FaceOutput['prosody'][number][], voices: [] as string[], emphasis: 0, spoken: [] as string[] };
  for (const node of graph.nodes) {
    if (node.type === 'silence') {
      run += node.durationMs;
      if (node.reason === 'break') output.breaks += 1;
      continue;
    }
    if (node.type === 'event') {
      output.marks.push(node.name);
      continue;
    }
    if (run > 0) silenceRunsMs.push(run);
    run = 0;
    if (node.type === 'audio') output.clips.push(node.path);
    else {
      output.prosody.push(node.prosody);
      if (node.voice !== undefined) output.voices.push(node.voice);
      if (node.annotations.emphasis !== undefined) output.emphasis += 1;
      output.spoken.push(node.sourceText);
    }
  }
  if (run > 0) silenceRunsMs.push(run);
  return { marks: output.marks, silenceRunsMs, breaks: output.breaks, clips: output.clips, prosody: output.prosody, voices: output.voices, emphasis: output.emphasis, spokenText: output.spoken.join(' ') };
}

function depthOf(element: SsmlElement): number {
  let deepest = 0;
  for (const child of element.children) if (child.kind === 'element') deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

/** The verdict for a face that threw: a coded error is a refusal, anything else a crash (a success). */
export function refusalVerdict(face: string, id: string, error: unknown): Verdict {
  if (error instanceof VoiceSoundboardError) return { face, id, outcome: 'refused', success: null, code: error.code };
  return { face, id, outcome: 'refused', success: `not a coded error: ${String(error).slice(0, 200)}` };
}

/** One compile face: how it turns a payload into compile input. */
interface CompileFace {
  name: string;
  mode: FaceMode;
  input: (text: string) => string;
  options: CompileOptions;
}

/** The API faces of `compile`: plain text and `ssml` template interpolations (literal), and markup read from the payload itself (bounded). */
export const COMPILE_FACES: readonly CompileFace[] = [
  { name: 'compile:text', mode: 'literal', input: (text) => text, options: { format: 'text' } },
  { name: 'compile:ssml-template', mode: 'literal', input: (text) => ssml`<speak>${text}</speak>`, options: { format: 'ssml' } },
  { name: 'compile:ssml-template-attribute', mode: 'literal', input: (text) => ssml`<speak><sub alias="${text}">word</sub></speak>`, options: { format: 'ssml' } },
  { name: 'compile:auto', mode: 'bounded', input: (text) => text, options: {} },
  { name: 'compile:auto-lenient', mode: 'bounded', input: (text) => text, options: { lenient: true } },
  { name: 'compile:ssml', mode: 'bounded', input: (text) => text, options: { format: 'ssml' } },
  { name: 'compile:ssml-lenient', mode: 'bounded', input: (text) => text, options: { format: 'ssml', lenient: true } },
  { name: 'compile:markup', mode: 'bounded', input: (text) => text, options: { format: 'markup' } },
];

/** Runs `payload` through one compile face and judges it. */
export function runCompileFace(face: CompileFace, payload: InjectionPayload): Verdict {
  let input: string;
  try {
    input = face.input(payload.text);
  } catch (error) {
    return refusalVerdict(face.name, payload.id, error);
  }
  let graph: SpeechGraph;
  try {
    graph = compile(input, face.options);
  } catch (error) {
    return refusalVerdict(face.name, payload.id, error);
  }
  let success = judgeOutcome(payload, face.mode, graphOutput(graph));
  if (success === null && graph.annotations.format === 'ssml') {
    const depth = depthOf(parseSsml(input, { lenient: face.options.lenient ?? false, maxDepth: 1_000_000, maxInputChars: 10_000_000 }));
    if (depth > 32) success = `nesting ${depth} deep was accepted (maxDepth 32)`;
  }
  return { face: face.name, id: payload.id, outcome: 'spoken', success };
}

/** What the engine streamed, for the judge: marks, silence runs, and the text the backend was asked to speak. */
export function chunksOutput(chunks: ReadonlyArray<{ kind: string; durationMs: number; marks: readonly string[] }>, spokenText: string): FaceOutput {
  const silenceRunsMs: number[] = [];
  let run = 0;
  const marks: string[] = [];
  const clips: string[] = [];
  for (const chunk of chunks) {
    marks.push(...chunk.marks);
    if (chunk.kind === 'silence') {
      run += chunk.durationMs;
      continue;
    }
    if (run > 0) silenceRunsMs.push(run);
    run = 0;
    if (chunk.kind === 'audio') clips.push('(a clip)');
  }
  if (run > 0) silenceRunsMs.push(run);
  return { marks, silenceRunsMs, breaks: 0, clips, prosody: [], voices: [], emphasis: 0, spokenText };
}

/** One engine face: how it turns a payload into a `stream` call. */
export interface EngineFace {
  name: string;
  mode: FaceMode;
  input: (text: string) => string;
  options: { format?: 'text' | 'ssml' | 'markup' | 'auto'; lenient?: boolean };
}

/** The engine's faces (`engine.stream`, which `speak` and `play` share). */
export const ENGINE_FACES: readonly EngineFace[] = [
  { name: 'engine:text', mode: 'literal', input: (text) => text, options: { format: 'text' } },
  { name: 'engine:ssml-template', mode: 'literal', input: (text) => ssml`<speak>${text}</speak>`, options: { format: 'ssml' } },
  { name: 'engine:auto', mode: 'bounded', input: (text) => text, options: {} },
  { name: 'engine:ssml-lenient', mode: 'bounded', input: (text) => text, options: { format: 'ssml', lenient: true } },
];
