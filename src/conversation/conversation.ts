/**
 * Conversation: several speakers taking turns. Built from turns (`new Conversation(turns,
 * options)`) or a script (`Conversation.fromScript(text)`), each speaker cast to a voice (distinct
 * defaults from the voices of the engine's backend when the cast says nothing; default-voices.ts).
 * `render(engine)` synthesizes every turn through the engine
 * (one registrar stream per turn, the conversation id in its metadata) and places the turns on a
 * sample clock (gaps, overlaps, barge-ins); `timeline()`, `toSrt()` and `toVtt()` read the last
 * render. `engine.speak(conversation)` is the mono mixdown; `engine.play(conversation)` plays it
 * live (live.ts), and `interrupt()` ends a live play: the playing turn fades, later turns never start.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { concatPcm } from '../audio/pcm.js';
import { InputError } from '../errors.js';
import type { RegistrarResult } from '../registrar/types.js';
import { parseInput } from '../validation.js';
import { holdingMixOf, type ConversationEngine, type TurnOptions } from './engine-face.js';
import { interruptPlaying, playTurns, type ConversationPlayOptions, type ConversationPlayResult, type TurnPlan } from './live.js';
import { parseScript } from './script.js';
import { toSrt, toVtt } from './subtitles.js';
import { MAX_CONVERSATION_RENDER_MS, mixdown, placeTurns, timelineOf, trimEdges, type TimelineEntry, type TurnClip } from './timeline.js';
import { defaultsOfBackends } from './default-voices.js';
import { castFor, conversationOptionsSchema, conversationTurnSchema, DEFAULT_BARGE_IN_OVERLAP_MS, positionOf, speakerKey, type CastEntry, type ConversationOptions, type ConversationTurn, type ConversationTurnInput, type ResolvedConversationOptions, type SpeakerDefaults } from './turns.js';
import { TurnWatch, type ConversationEnd } from './turn-watch.js';
import type { RenderedConversation } from './types.js';

/** Options of `conversation.render(engine)` and `engine.speak(conversation)`. */
export interface ConversationRenderOptions {
  /** Output rate (default: the first turn's, i.e. the engine's or its backend's). */
  sampleRateHz?: number;
  /** Cancels the render: the turn being synthesized is stopped, the render rejects with AbortError. */
  signal?: AbortSignal;
}

const renderOptionsSchema = z.strictObject({
  sampleRateHz: z.number().int().min(8000).max(192_000).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

const livePlayOptionsSchema = z.strictObject({
  policy: z.enum(['preempt', 'queue', 'duck']).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

/** The result of `engine.speak(conversation)`: the mono mixdown, its timeline and the turns' streams. */
export interface ConversationSpeechResult {
  conversationId: string;
  /** Mono float32 PCM: every turn mixed in at its start. */
  audio: Float32Array;
  sampleRateHz: number;
  channels: 1;
  durationMs: number;
  /** Registrar stream of each turn rendered, in turn order. */
  streamIds: string[];
  timeline: TimelineEntry[];
  /** Every turn's own clip and place (what a Scene mixes). */
  rendered: RenderedConversation;
  /** The decision that ended the conversation early (an interrupt of one of its turns), or null. */
  endedBy: ConversationEnd | null;
}

const FALLBACK_RATE_HZ = 24_000;

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tooLong(ms: number, what: string): InputError {
  return new InputError(`conversation: ${what} last ${(ms / 1000).toFixed(1)} s, more than the ${MAX_CONVERSATION_RENDER_MS / 1000} s a render may hold in memory; play it live, or split it`, { code: 'CONVERSATION_TOO_LONG', field: 'conversation' });
}

/** Conversation's render without a slot (set in its static block; renderInHeldMix). */
let renderHeld: (conversation: Conversation, engine: ConversationEngine) => Promise<RenderedConversation>;

/**
 * A conversation rendered within a mix whose slot the caller already holds (a scene's dialogue
 * layer, inside the scene's render): takes no second slot. Internal: not exported by the package,
 * so only a render that holds the slot reaches it.
 */
export function renderInHeldMix(conversation: Conversation, engine: ConversationEngine): Promise<RenderedConversation> {
  return renderHeld(conversation, engine);
}

/** Several speakers taking turns; see the module comment. */
export class Conversation {
  /** The id each turn's stream carries in its start metadata (`conversationId`). */
  readonly id: string;
  /** The validated turns, in order. */
  readonly turns: readonly ConversationTurn[];
  readonly #options: ResolvedConversationOptions;
  /** The cast with only the defaults that need no engine (`defaultVoices` given). */
  readonly #givenCast: Map<string, CastEntry>;
  /** The cast of the last render or play (the given one before any). */
  #cast: Map<string, CastEntry>;
  #rendered: { conversation: RenderedConversation; timeline: TimelineEntry[] } | null = null;
  #live: { engine: ConversationEngine; watch: TurnWatch } | null = null;

  /** Validates the turns and options (InputError naming the field). */
  constructor(turns: readonly ConversationTurnInput[], options: ConversationOptions = {}) {
    this.turns = Object.freeze(parseInput(z.array(conversationTurnSchema).min(1).max(10_000), turns, 'turns'));
    this.#options = parseInput(conversationOptionsSchema, options, 'options');
    this.id = this.#options.id ?? `conv-${randomUUID()}`;
    this.#givenCast = castFor(this.turns, this.#options.cast, (backend) => (backend === undefined ? (this.#givenDefaults() ?? 'none') : 'none'));
    this.#cast = this.#givenCast;
    const first = this.turns[0] as ConversationTurn;
    if (first.overlapMs !== undefined || first.bargeIn === true) throw new InputError('turns.0: the first turn has no turn before it to overlap or barge in on', { field: 'turns.0' });
  }

  /** A conversation from the script form (`Alice: Hello!`, `[pause 500ms]`, `(laughs)`, `#` comments); InputError naming the line. */
  static fromScript(script: string, options: ConversationOptions = {}): Conversation {
    return new Conversation(parseScript(script), options);
  }

  /**
   * Each speaker (as first written) and the cast entry they speak with: as the last render or play
   * cast them; before one, the cast with only the defaults that need no engine (`defaultVoices`
   * given): default voices come from the engine's backend (`castOn(engine)`).
   */
  cast(): Map<string, CastEntry> {
    return this.#bySpeaker(this.#cast);
  }

  /** Each speaker (as first written) and the cast entry they would speak with on `engine`, defaults from its backends' voices. */
  async castOn(engine: Pick<ConversationEngine, 'voices'>): Promise<Map<string, CastEntry>> {
    return this.#bySpeaker(await this.#castOn(engine));
  }

  /**
   * Synthesizes every turn through `engine` (one stream per turn) and places them on the timeline.
   * An allowed interrupt of a turn's stream ends the render there: later turns are not rendered.
   */
  async render(engine: ConversationEngine, options: ConversationRenderOptions = {}): Promise<RenderedConversation> {
    return (await holdingMixOf(engine, 'conversation', () => this.#render(engine, options))).conversation;
  }

  static {
    // Module-private, not a method: a method (symbol-keyed too) is anyone's to call, slot or none.
    renderHeld = async (conversation, engine) => (await conversation.#render(engine, {})).conversation;
  }

  /** The mono mixdown of a fresh render (what `engine.speak(conversation)` returns). */
  async speak(engine: ConversationEngine, options: ConversationRenderOptions = {}): Promise<ConversationSpeechResult> {
    const { conversation, timeline, streamIds, endedBy } = await holdingMixOf(engine, 'conversation', () => this.#render(engine, options));
    const audio = mixdown(conversation);
    return { conversationId: this.id, audio, sampleRateHz: conversation.sampleRate, channels: 1, durationMs: conversation.durationMs, streamIds, timeline, rendered: conversation, endedBy };
  }

  /** Plays the conversation live on the engine's device (what `engine.play(conversation)` does); see live.ts. */
  async play(engine: ConversationEngine, options: ConversationPlayOptions = {}): Promise<ConversationPlayResult> {
    const parsed = parseInput(livePlayOptionsSchema, options, 'options');
    if (this.#live) throw new InputError(`conversation ${this.id} is already playing`, { code: 'CONVERSATION_PLAYING', field: 'conversation' });
    const watch = new TurnWatch(engine);
    this.#live = { engine, watch };
    try {
      const cast = await this.#castOn(engine, parsed.signal);
      return await playTurns(engine, this.id, this.#plans(cast, undefined), watch, { ...(parsed.policy ? { policy: parsed.policy } : {}), ...(parsed.signal ? { signal: parsed.signal } : {}) });
    } finally {
      watch.dispose();
      this.#live = null;
    }
  }

  /**
   * Ends a live play: asks the registrar (as the engine's actor) to interrupt each turn playing
   * now; an allowed interrupt fades it and no later turn starts. Between turns, the conversation
   * ends before the next one. Returns the registrar's answers ([] when nothing was playing); a
   * denied interrupt (e.g. `accessibility_override`) leaves the conversation running.
   */
  interrupt(options: { reason?: string } = {}): RegistrarResult[] {
    const live = this.#live;
    if (!live) return [];
    const results = interruptPlaying(live.engine, live.watch, options.reason ?? 'conversation interrupted');
    if (results.length === 0) live.watch.end({ turn: -1, streamId: null, action: 'interrupt', actor: null, reason: options.reason ?? 'conversation interrupted' });
    return results;
  }

  /**
   * The streams of the live play's turns so far, by turn index (empty when not playing): what a
   * user needs to end turns her accessibility override keeps from the engine's actor (she asks
   * the registrar herself: `interrupt` one playing, `fail` one not playing yet).
   */
  liveStreams(): Map<number, string> {
    return this.#live?.watch.streams() ?? new Map();
  }

  /** Per turn of the last render: speaker, start and end (ms), words with their times. Throws before any render. */
  timeline(): TimelineEntry[] {
    if (!this.#rendered) throw new InputError('conversation.timeline(): render the conversation first (conversation.render(engine) or engine.speak(conversation))', { code: 'CONVERSATION_NOT_RENDERED', field: 'conversation' });
    return this.#rendered.timeline.map((entry) => ({ ...entry, words: entry.words.map((word) => ({ ...word })) }));
  }

  /** The last render's timeline as SubRip subtitles. */
  toSrt(): string {
    return toSrt(this.timeline());
  }

  /** The last render's timeline as WebVTT subtitles. */
  toVtt(): string {
    return toVtt(this.timeline());
  }

  async #render(engine: ConversationEngine, options: ConversationRenderOptions): Promise<{ conversation: RenderedConversation; timeline: TimelineEntry[]; streamIds: string[]; endedBy: ConversationEnd | null }> {
    const parsed = parseInput(renderOptionsSchema, options, 'options');
    // The pauses alone already say when a render would be too long: refuse before any synthesis.
    const pausesMs = this.#plans(this.#givenCast, undefined).reduce((total, plan) => total + (plan.overlapMs === undefined ? plan.gapMs : 0), 0);
    if (pausesMs > MAX_CONVERSATION_RENDER_MS) throw tooLong(pausesMs, 'its pauses alone');
    const cast = await this.#castOn(engine, parsed.signal);
    const watch = new TurnWatch(engine);
    const clips: TurnClip[] = [];
    let rateHz = parsed.sampleRateHz;
    // Every turn is held until the mixdown: their audio together is bounded as it arrives (turns
    // that overlap can place any number of them within the mix's bound, each still held).
    let heldFrames = 0;
    try {
      for (const plan of this.#plans(cast, rateHz)) {
        if (watch.ended) break;
        const pcm: Float32Array[] = [];
        const words: TurnClip['words'] = [];
        let streamId: string | undefined;
        const turnOptions: TurnOptions = {
          ...plan.options,
          ...(rateHz !== undefined ? { sampleRateHz: rateHz } : {}),
          ...(parsed.signal ? { signal: parsed.signal } : {}),
          onStreamStart: (id) => {
            streamId = id;
            watch.add(id, plan.index);
          },
        };
        for await (const chunk of engine.stream(plan.request, turnOptions)) {
          rateHz ??= chunk.sampleRateHz;
          for (const word of chunk.metadata.wordTimings ?? []) {
            words.push({ ...word, startMs: word.streamStartMs ?? word.startMs, endMs: word.streamEndMs ?? word.endMs });
          }
          pcm.push(chunk.pcm);
          heldFrames += chunk.pcm.length; // a turn is mono
          const heldMs = (heldFrames / chunk.sampleRateHz) * 1000;
          // Leaving the loop ends the turn's stream (the consumer stopped reading: attested).
          if (heldMs > MAX_CONVERSATION_RENDER_MS) throw tooLong(heldMs, 'its turns together');
        }
        const turn = this.turns[plan.index] as ConversationTurn;
        const entry = cast.get(speakerKey(turn.speaker)) as CastEntry;
        // An accessibility override's pause amplification stretches the gap before the turn as it does pauses inside it.
        const amplification = streamId === undefined ? 1 : (engine.registrar.overrideFor(streamId)?.pauseAmplification ?? 1);
        const position = positionOf(entry);
        const trimmed = trimEdges(concatPcm(pcm), rateHz ?? FALLBACK_RATE_HZ);
        clips.push({
          index: plan.index,
          speaker: turn.speaker,
          voice: entry.voice ?? 'default',
          pcm: trimmed.pcm,
          words: words.map((word) => ({ ...word, startMs: Math.max(0, word.startMs - trimmed.headMs), endMs: Math.max(0, word.endMs - trimmed.headMs) })),
          gapMs: plan.gapMs * amplification,
          overlapMs: plan.overlapMs,
          bargeIn: plan.bargeIn,
          ...(position ? { position } : {}),
        });
      }
    } finally {
      watch.dispose();
    }
    const conversation = placeTurns(clips, rateHz ?? FALLBACK_RATE_HZ);
    if (conversation.durationMs > MAX_CONVERSATION_RENDER_MS) throw tooLong(conversation.durationMs, 'its turns and pauses');
    const timeline = timelineOf(conversation, this.turns.map((turn) => turn.text));
    this.#rendered = { conversation, timeline };
    const streams = watch.streams();
    return { conversation, timeline, streamIds: clips.map((clip) => streams.get(clip.index) ?? ''), endedBy: watch.ended };
  }

  /** The defaults `defaultVoices` gives the engine's backend's speakers (its voices; `[]`: pitch and rate), or undefined when the backend's voices decide. */
  #givenDefaults(): SpeakerDefaults | undefined {
    const given = this.#options.defaultVoices;
    if (given === undefined) return undefined;
    return given.length > 0 ? given : 'prosody';
  }

  /**
   * The cast on `engine`, kept as the last cast: defaults from the voices of each speaker's backend
   * (the engine's own: `defaultVoices` when given). Only backends with a speaker left without a voice are asked;
   * `signal` ends the wait for their lists (AbortError).
   */
  async #castOn(engine: Pick<ConversationEngine, 'voices'>, signal?: AbortSignal): Promise<Map<string, CastEntry>> {
    const given = this.#givenDefaults();
    const backends = new Set([...this.#givenCast.values()].filter((entry) => entry.voice === undefined && !(entry.backend === undefined && given !== undefined)).map((entry) => entry.backend));
    if (backends.size === 0) return (this.#cast = this.#givenCast);
    const defaults = await defaultsOfBackends(engine, backends, signal);
    this.#cast = castFor(this.turns, this.#options.cast, (backend) => (backend === undefined && given !== undefined ? given : (defaults.get(backend) ?? 'none')));
    return this.#cast;
  }

  /** `cast` keyed by each speaker as first written (copies). */
  #bySpeaker(cast: Map<string, CastEntry>): Map<string, CastEntry> {
    const bySpeaker = new Map<string, CastEntry>();
    for (const turn of this.turns) {
      if (![...bySpeaker.keys()].some((name) => speakerKey(name) === speakerKey(turn.speaker))) bySpeaker.set(turn.speaker, { ...(cast.get(speakerKey(turn.speaker)) as CastEntry) });
    }
    return bySpeaker;
  }

  /** What each turn asks the engine: text (SSML around it for a cast pitch), voice, prosody and stream metadata. */
  #plans(castOf: Map<string, CastEntry>, sampleRateHz: number | undefined): TurnPlan[] {
    return this.turns.map((turn, index) => {
      const cast = castOf.get(speakerKey(turn.speaker)) as CastEntry;
      const pitch = cast.pitchSemitones ?? 0;
      const request = pitch !== 0 ? `<speak><prosody pitch="${pitch > 0 ? '+' : ''}${pitch}st">${xmlEscape(turn.text)}</prosody></speak>` : turn.text;
      const emotion = turn.emotion ?? cast.emotion;
      const options: TurnOptions = {
        ...(cast.voice !== undefined ? { voice: cast.voice } : {}),
        ...(cast.backend !== undefined ? { backend: cast.backend } : {}),
        ...(cast.rate !== undefined ? { rate: cast.rate } : {}),
        ...(emotion !== undefined ? { emotion } : {}),
        ...(pitch !== 0 ? { format: 'ssml' as const } : {}),
        ...(sampleRateHz !== undefined ? { sampleRateHz } : {}),
        streamMetadata: { conversationId: this.id, conversationTurn: index, speaker: turn.speaker },
      };
      return {
        index,
        speaker: turn.speaker,
        request,
        options,
        gapMs: turn.gapMs ?? (index === 0 ? 0 : this.#options.gapMs),
        overlapMs: turn.bargeIn === true ? (turn.overlapMs ?? DEFAULT_BARGE_IN_OVERLAP_MS) : turn.overlapMs,
        bargeIn: turn.bargeIn === true,
      };
    });
  }
}

// Hardening, as VoiceEngine: the engine hands itself to these methods, so no caller may swap them on every instance.
Object.freeze(Conversation.prototype);
Object.freeze(Conversation);
