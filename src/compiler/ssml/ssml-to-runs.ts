/**
 * Reads a parsed SSML tree into runs: element semantics (breaks, prosody, emphasis, say-as, sub,
 * voice, audio, mark, p/s boundaries) and attribute values, with errors at the element's position.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { combineProsody } from '../emotion.js';
import { COMPILER_ERROR_CODES, errorAt } from '../input-errors.js';
import { SAY_AS_KINDS, type SayAsKind } from '../normalize/language-normalizer.js';
import { normalizerFor } from '../normalize/normalizer.js';
import { visibleText } from '../../security/visible-text.js';
import type { Run, RunStyle } from '../runs.js';
import type { SsmlContent, SsmlElement } from './ssml-parser.js';
import { EMPHASIS_PROSODY, MAX_BREAK_MS, readBreakStrengthMs, readDurationMs, readPitchSemitones, readRate, readVolumeDb } from './ssml-values.js';

/** What the SSML reader needs besides the tree. */
export interface SsmlReadOptions {
  /** The original document, for error positions. */
  input: string;
  lenient: boolean;
  allowAudio: boolean;
  /** When set, audio sources must resolve inside this directory; relative sources resolve against it. */
  audioRoot?: string;
}

/** Longest `<mark>` name, in code points. */
export const MAX_MARK_NAME_CHARS = 128;
/**
 * A mark name is a token safe to show, log or put in HTML/JSON as is: letters, marks, digits and
 * `_ . : -` only (no space, markup character, control, bidi override or lone surrogate).
 */
export const MARK_NAME_PATTERN = new RegExp(`^[\\p{L}\\p{M}\\p{N}_.:-]{1,${MAX_MARK_NAME_CHARS}}$`, 'u');
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

/** Text content of an element, depth-first. */
function textContent(element: SsmlElement): string {
  return element.children.map((child) => (child.kind === 'text' ? child.text : textContent(child))).join('');
}

class SsmlReader {
  readonly runs: Run[] = [];

  constructor(private readonly options: SsmlReadOptions) {}

  private invalid(element: SsmlElement, message: string): Error {
    return errorAt(COMPILER_ERROR_CODES.ssmlInvalid, this.options.input, element.offset, message);
  }

  /** Reads an attribute with `read`; a bad value is an error (strict) or ignored (lenient). */
  private attribute<T>(element: SsmlElement, name: string, read: (value: string) => T | undefined, expected: string): T | undefined {
    const value = element.attributes.get(name);
    if (value === undefined) return undefined;
    const result = read(value);
    if (result === undefined && !this.options.lenient) {
      throw this.invalid(element, `<${element.name}> ${name}=${JSON.stringify(value)} is not valid: expected ${expected}`);
    }
    return result;
  }

  private required(element: SsmlElement, name: string): string | undefined {
    const value = element.attributes.get(name);
    if ((value === undefined || value.trim() === '') && !this.options.lenient) throw this.invalid(element, `<${element.name}> needs a non-empty ${name} attribute`);
    return value?.trim() === '' ? undefined : value;
  }

  private withLanguage(element: SsmlElement, style: RunStyle): RunStyle {
    const language = this.attribute(element, 'xml:lang', (value) => (LANGUAGE_TAG.test(value) ? value : undefined), 'a BCP-47 language tag such as en-US');
    return language ? { ...style, language } : style;
  }

  readChildren(element: SsmlElement, style: RunStyle): void {
    for (const child of element.children) this.read(child, style);
  }

  read(node: SsmlContent, style: RunStyle): void {
    if (node.kind === 'text') {
      this.runs.push({ kind: 'text', text: node.text, style });
      return;
    }
    if (node.unknown) return this.readChildren(node, style);
    switch (node.name) {
      case 'speak':
        return this.readChildren(node, this.withLanguage(node, style));
      case 'p':
      case 's': {
        const level = node.name === 'p' ? 'paragraph' : 'sentence';
        this.runs.push({ kind: 'boundary', level });
        this.readChildren(node, this.withLanguage(node, style));
        this.runs.push({ kind: 'boundary', level });
        return;
      }
      case 'break':
        return this.readBreak(node);
      case 'prosody':
        return this.readProsody(node, style);
      case 'emphasis': {
        const level = this.attribute(node, 'level', (value) => (Object.hasOwn(EMPHASIS_PROSODY, value) ? value : undefined), 'strong, moderate, none or reduced') ?? 'moderate';
        const change = EMPHASIS_PROSODY[level] as (typeof EMPHASIS_PROSODY)[string];
        return this.readChildren(node, { ...style, relative: combineProsody(style.relative, change), emphasis: level });
      }
      case 'say-as':
        return this.readSayAs(node, style);
      case 'sub': {
        const alias = this.required(node, 'alias');
        const text = textContent(node);
        const spoken = alias === undefined ? undefined : normalizerFor(style.language).normalize(alias, style.language);
        this.runs.push(spoken === undefined ? { kind: 'text', text, style } : { kind: 'text', text, spoken, style });
        return;
      }
      case 'voice': {
        const name = node.attributes.get('name')?.trim();
        if (!name && !node.attributes.has('xml:lang') && !this.options.lenient) throw this.invalid(node, '<voice> needs a name or xml:lang attribute');
        const voiced = this.withLanguage(node, style);
        return this.readChildren(node, name ? { ...voiced, voice: name } : voiced);
      }
      case 'audio':
        return this.readAudio(node, style);
      case 'mark': {
        const name = this.required(node, 'name');
        if (name === undefined) return;
        // Mark names reach events, logs and host UIs as they are: a bounded token, nothing hidden or markup.
        if (!MARK_NAME_PATTERN.test(name)) {
          if (!this.options.lenient) throw this.invalid(node, `<mark> name ${visibleText(JSON.stringify(name.slice(0, 40)))} is not valid: expected 1 to ${MAX_MARK_NAME_CHARS} letters, digits or _ . : - (no spaces, markup, controls or bidi overrides)`);
          return;
        }
        this.runs.push({ kind: 'mark', name });
        return;
      }
      default:
        return this.readChildren(node, style);
    }
  }

  private readBreak(node: SsmlElement): void {
    const time = this.attribute(node, 'time', readDurationMs, `a duration such as 300ms or 1.5s, at most ${MAX_BREAK_MS} ms`);
    const strength = this.attribute(node, 'strength', readBreakStrengthMs, 'none, x-weak, weak, medium, strong or x-strong');
    const durationMs = time ?? strength ?? readBreakStrengthMs('medium') ?? 400;
    this.runs.push({ kind: 'break', durationMs });
  }

  private readProsody(node: SsmlElement, style: RunStyle): void {
    const rate = this.attribute(node, 'rate', readRate, 'x-slow, slow, medium, fast, x-fast, default, a percentage (120%, +10%) or a positive multiplier');
    const pitch = this.attribute(node, 'pitch', readPitchSemitones, 'x-low, low, medium, high, x-high, default, semitones (+2st) or a relative percentage (+10%)');
    const volume = this.attribute(node, 'volume', readVolumeDb, 'silent, x-soft, soft, medium, loud, x-loud, default or decibels (+6dB)');
    const change = { rate: rate ?? 1, pitchSemitones: pitch ?? 0, volumeDb: volume ?? 0 };
    this.readChildren(node, { ...style, relative: combineProsody(style.relative, change) });
  }

  private readSayAs(node: SsmlElement, style: RunStyle): void {
    const text = textContent(node);
    const kind = this.required(node, 'interpret-as');
    const known = kind !== undefined && (SAY_AS_KINDS as readonly string[]).includes(kind);
    if (!known && kind !== undefined && !this.options.lenient) {
      throw this.invalid(node, `<say-as> interpret-as=${JSON.stringify(kind)} is not supported (supported: ${SAY_AS_KINDS.join(', ')})`);
    }
    const spoken = known ? normalizerFor(style.language).interpretAs(kind as SayAsKind, text, node.attributes.get('format'), style.language) : undefined;
    if (spoken === undefined && known && !this.options.lenient) {
      throw this.invalid(node, `<say-as interpret-as="${kind}"> cannot read ${JSON.stringify(text.slice(0, 40))}${node.attributes.has('format') ? ` with format ${JSON.stringify(node.attributes.get('format'))}` : ''}`);
    }
    this.runs.push(spoken === undefined ? { kind: 'text', text, style } : { kind: 'text', text, spoken, style });
  }

  private readAudio(node: SsmlElement, style: RunStyle): void {
    const fallbackText = normalizerFor(style.language).normalize(textContent(node), style.language);
    const source = this.required(node, 'src');
    let path: string | undefined;
    let problem: string | undefined;
    if (!this.options.allowAudio) problem = '<audio> is not allowed: pass allowAudio: true to play local files';
    else if (source === undefined) problem = '<audio> needs a src';
    else ({ path, problem } = this.resolveAudio(source));
    if (problem !== undefined || path === undefined) {
      if (!this.options.lenient) throw errorAt(COMPILER_ERROR_CODES.ssmlAudioForbidden, this.options.input, node.offset, problem ?? '<audio> needs a src');
      // Lenient: speak the fallback content instead of the clip.
      this.runs.push({ kind: 'text', text: textContent(node), style });
      return;
    }
    this.runs.push({ kind: 'audio', path, fallbackText });
  }

  private resolveAudio(source: string): { path?: string; problem?: string } {
    let path: string;
    if (/^file:/i.test(source)) {
      try {
        path = fileURLToPath(source);
      } catch {
        return { problem: `<audio> src ${JSON.stringify(source)} is not a valid file: URL` };
      }
    } else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(source) && !/^[A-Za-z]:[\\/]/.test(source)) {
      return { problem: `<audio> src ${JSON.stringify(source)} is not a local file (only local paths and file: URLs are allowed)` };
    } else if (isAbsolute(source)) {
      path = resolve(source);
    } else if (this.options.audioRoot !== undefined) {
      path = resolve(this.options.audioRoot, source);
    } else {
      return { problem: `<audio> src ${JSON.stringify(source)} is relative: give an absolute path or set audioRoot` };
    }
    if (this.options.audioRoot !== undefined) {
      const inside = relative(resolve(this.options.audioRoot), path);
      if (inside.startsWith('..') || isAbsolute(inside)) return { problem: `<audio> src ${JSON.stringify(source)} is outside audioRoot` };
    }
    return { path };
  }
}

/** Reads the `<speak>` tree into runs, starting from `style`. */
export function ssmlToRuns(root: SsmlElement, style: RunStyle, options: SsmlReadOptions): Run[] {
  const reader = new SsmlReader(options);
  reader.read(root, style);
  return reader.runs;
}
