/**
 * The canonical JSON of an attestation record, written by a serialiser specialised for the
 * record's fixed shape: the top-level keys and those of `actor`, `timestamp` and each violation
 * are known, so they are emitted in their (statically) sorted order without sorting or recursion;
 * only `parameters` and `metadata` (the extension points) go through the generic canonicalJson.
 * The output is byte-identical to `canonicalJson(record)` for every record of the Attestation
 * type (a fast-check test holds it to that, and a pinned log holds both to the frozen form).
 *
 * The text is returned in two halves around the `hash` key (sorted between `decision` and `id`),
 * so one serialisation gives both the hashed text (`head + tail`, every field but `hash`) and
 * the log line (`head + ,"hash":"…" + tail`).
 */
import { canonicalJson } from './canonical-json.js';
import type { AttestationBody, Violation } from './record.js';

/** The canonical text of a record, split where `"hash"` goes. */
export interface RecordText {
  /** `{"accessibility":…,"action":…,"actor":…,"decision":…` */
  readonly head: string;
  /** `,"id":…,…,"violations":[…]}` (includes `prevHash`). */
  readonly tail: string;
}

/** Canonical text of frozen string arrays (the invariant lists are a few shared frozen arrays). */
const frozenArrayText = new WeakMap<readonly string[], string>();

/** What JSON.stringify escapes in a string: quote, backslash, controls, (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A field's canonical text: the common scalar types inline, anything else (a value that breaks
 * the record type) through canonicalJson, so the output never differs from it (undefined throws).
 */
function scalar(value: unknown): string {
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
  if (value === null) return 'null';
  return canonicalJson(value);
}

/** Quoted text of vocabulary strings (actions, kinds, states, decisions, reasons, levels, invariant ids), learnt on first use. */
const vocabularyText = new Map<string, string>();
/** Cap on learnt words: the vocabulary fields take a few dozen values; the cap bounds the memo whatever comes. */
const VOCABULARY_MAX = 512;

/** `scalar` for fields whose values come from small fixed sets: a shared quoted string, no regex, no new string. */
function word(value: unknown): string {
  if (typeof value !== 'string') return scalar(value);
  const known = vocabularyText.get(value);
  if (known !== undefined) return known;
  const text = scalar(value);
  if (vocabularyText.size < VOCABULARY_MAX) vocabularyText.set(value, text);
  return text;
}

/** canonicalJson of an extension-point object, without sorting or allocating when it is empty (the common case). */
function jsonObjectText(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return canonicalJson(value);
  for (const key in value) if (Object.hasOwn(value, key)) return canonicalJson(value);
  return '{}'; // no own enumerable key: canonicalJson writes {} too
}

function stringArrayText(values: readonly string[]): string {
  if (!Array.isArray(values)) return canonicalJson(values);
  const frozen = Object.isFrozen(values);
  if (frozen) {
    const cached = frozenArrayText.get(values);
    if (cached !== undefined) return cached;
  }
  let text = '[';
  let allStrings = true;
  for (let index = 0; index < values.length; index += 1) {
    const value: unknown = values[index];
    if (typeof value !== 'string') allStrings = false;
    text += (index === 0 ? '' : ',') + scalar(value);
  }
  text += ']';
  // A frozen array of strings can never change, so its text can be remembered.
  if (frozen && allStrings) frozenArrayText.set(values, text);
  return text;
}

function violationsText(violations: readonly Violation[]): string {
  if (!Array.isArray(violations)) return canonicalJson(violations);
  if (violations.length === 0) return '[]';
  let text = '[';
  for (let index = 0; index < violations.length; index += 1) {
    const v = violations[index] as Violation;
    text += `${index === 0 ? '' : ','}{"invariant":${word(v.invariant)},"level":${word(v.level)},"message":${scalar(v.message)}}`;
  }
  return `${text}]`;
}

/**
 * The canonical texts of a record's extension points (`metadata`, `parameters`), written ahead of
 * the rest by a store that seals later (so a value canonicalJson refuses throws when the record is
 * staged, not when it is sealed).
 */
export interface ExtensionTexts {
  readonly metadata: string;
  readonly parameters: string;
}

/** Both extension points empty (most records): no text to keep per record. */
const NO_EXTENSIONS: ExtensionTexts = Object.freeze({ metadata: '{}', parameters: '{}' });

/** The extension texts of a body; throws a TypeError where canonicalJson would. */
export function extensionTexts(body: Pick<AttestationBody, 'metadata' | 'parameters'>): ExtensionTexts {
  const metadata = jsonObjectText(body.metadata);
  const parameters = jsonObjectText(body.parameters);
  return metadata === '{}' && parameters === '{}' ? NO_EXTENSIONS : { metadata, parameters };
}

/**
 * The canonical JSON of `body` linked after `prevHash`, split around `hash` (see the file
 * comment). `extension`: the texts of `metadata` and `parameters` written ahead (ExtensionTexts).
 * Throws a TypeError where canonicalJson would (a non-finite number).
 */
export function recordText(body: AttestationBody, prevHash: string, extension?: ExtensionTexts): RecordText {
  const actor = body.actor;
  const head =
    `{"accessibility":${body.accessibility === true ? 'true' : body.accessibility === false ? 'false' : scalar(body.accessibility)}` +
    `,"action":${word(body.action)}` +
    `,"actor":${actor === null ? 'null' : `{"id":${scalar(actor.id)},"kind":${word(actor.kind)}}`}` +
    `,"decision":${word(body.decision)}`;
  const tail =
    `,"id":${scalar(body.id)}` +
    `,"invariants":${stringArrayText(body.invariants)}` +
    `,"message":${scalar(body.message)}` +
    `,"metadata":${extension === undefined ? jsonObjectText(body.metadata) : extension.metadata}` +
    `,"parameters":${extension === undefined ? jsonObjectText(body.parameters) : extension.parameters}` +
    `,"parent":${scalar(body.parent)}` +
    `,"prevHash":${scalar(prevHash)}` +
    `,"reason":${word(body.reason)}` +
    `,"seq":${scalar(body.seq)}` +
    `,"stateAfter":${word(body.stateAfter)}` +
    `,"stateBefore":${word(body.stateBefore)}` +
    `,"target":${scalar(body.target)}` +
    `,"timestamp":{"monotonicNs":${scalar(body.timestamp.monotonicNs)},"wall":${scalar(body.timestamp.wall)}}` +
    `,"v":${word(body.v)}` +
    `,"version":${scalar(body.version)}` +
    `,"violations":${violationsText(body.violations)}}`;
  return { head, tail };
}
