/**
 * Readers of SSML attribute values: break time/strength, prosody rate/pitch/volume, emphasis
 * level. Each returns undefined for a value it cannot read; the caller turns that into an error.
 */
import type { Prosody } from '../../graph/engine-output.js';

/** Longest `<break>` / `[pause]` accepted, in ms. */
export const MAX_BREAK_MS = 10_000;

const BREAK_STRENGTH_MS: Readonly<Record<string, number>> = { none: 0, 'x-weak': 100, weak: 200, medium: 400, strong: 700, 'x-strong': 1000 };
const RATE_KEYWORDS: Readonly<Record<string, number>> = { 'x-slow': 0.5, slow: 0.75, medium: 1, fast: 1.25, 'x-fast': 1.75, default: 1 };
const PITCH_KEYWORDS: Readonly<Record<string, number>> = { 'x-low': -6, low: -3, medium: 0, high: 3, 'x-high': 6, default: 0 };
const VOLUME_KEYWORDS: Readonly<Record<string, number>> = { silent: -96, 'x-soft': -12, soft: -6, medium: 0, loud: 6, 'x-loud': 12, default: 0 };

/** Emphasis levels and the prosody change each one makes. */
export const EMPHASIS_PROSODY: Readonly<Record<string, Prosody>> = {
  strong: { rate: 0.9, pitchSemitones: 1.5, volumeDb: 4 },
  moderate: { rate: 0.95, pitchSemitones: 0.75, volumeDb: 2 },
  none: { rate: 1, pitchSemitones: 0, volumeDb: 0 },
  reduced: { rate: 1.05, pitchSemitones: -0.5, volumeDb: -2 },
};

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;

/** Reads a duration like `300ms` or `1.5s`; undefined when malformed or longer than MAX_BREAK_MS. */
export function readDurationMs(value: string): number | undefined {
  const match = new RegExp(String.raw`^\s*${NUMBER}\s*(ms|s)\s*$`).exec(value);
  if (!match) return undefined;
  const durationMs = Math.round(Number(match[1]) * (match[2] === 's' ? 1000 : 1));
  return durationMs <= MAX_BREAK_MS ? durationMs : undefined;
}

/** Reads a break strength keyword into ms. */
export function readBreakStrengthMs(value: string): number | undefined {
  return BREAK_STRENGTH_MS[value.trim()];
}

/** Reads a prosody rate (`slow`, `120%`, `+10%`, `1.2`) into a multiplier. */
export function readRate(value: string): number | undefined {
  const text = value.trim();
  if (Object.hasOwn(RATE_KEYWORDS, text)) return RATE_KEYWORDS[text];
  const percent = new RegExp(String.raw`^([+-])?${NUMBER}%$`).exec(text);
  if (percent) {
    const amount = Number(percent[2]) / 100;
    const rate = percent[1] === '+' ? 1 + amount : percent[1] === '-' ? 1 - amount : amount;
    return rate > 0 ? rate : undefined;
  }
  const multiplier = new RegExp(String.raw`^${NUMBER}$`).exec(text);
  return multiplier && Number(multiplier[1]) > 0 ? Number(multiplier[1]) : undefined;
}

/** Reads a prosody pitch (`high`, `+2st`, `-10%`) into a semitone offset. */
export function readPitchSemitones(value: string): number | undefined {
  const text = value.trim();
  if (Object.hasOwn(PITCH_KEYWORDS, text)) return PITCH_KEYWORDS[text];
  const semitones = new RegExp(String.raw`^([+-])${NUMBER}st$`).exec(text);
  if (semitones) return (semitones[1] === '-' ? -1 : 1) * Number(semitones[2]);
  const percent = new RegExp(String.raw`^([+-])${NUMBER}%$`).exec(text);
  if (percent) {
    const ratio = 1 + ((percent[1] === '-' ? -1 : 1) * Number(percent[2])) / 100;
    return ratio > 0 ? 12 * Math.log2(ratio) : undefined;
  }
  return undefined;
}

/** Reads a prosody volume (`loud`, `+6dB`, `-3dB`) into a dB offset. */
export function readVolumeDb(value: string): number | undefined {
  const text = value.trim();
  if (Object.hasOwn(VOLUME_KEYWORDS, text)) return VOLUME_KEYWORDS[text];
  const decibels = new RegExp(String.raw`^([+-])?${NUMBER}dB$`).exec(text);
  return decibels ? (decibels[1] === '-' ? -1 : 1) * Number(decibels[2]) : undefined;
}
