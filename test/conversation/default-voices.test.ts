/**
 * Default voices come from the backend that speaks: on a backend with voices of its own (a real
 * test backend that refuses a voice it does not list, as Kokoro, Piper and cloud backends do),
 * speakers the cast leaves out get distinct voices from its list, rendered and played live; one
 * listed voice gives pitch and rate steps; none listed leaves the backend's default; a speaker cast
 * to another backend gets that backend's defaults; espeak-ng keeps DEFAULT_VOICES. Before, every
 * backend was handed espeak-ng names ("en-us"), which the test backend refuses.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import type { VoiceInfo } from '../../src/backends/backend.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { defaultsFromVoices } from '../../src/conversation/default-voices.js';
import { DEFAULT_VOICES } from '../../src/conversation/turns.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { inputRejection } from '../helpers/errors.js';
import { FIXTURE_VOICES, VoiceListBackend, type ListedVoice } from '../helpers/voice-list-backend.js';

const RATE = 16_000;
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** An engine on a fresh VoiceListBackend listing `voices` (optionally playing on a null device). */
function listEngine(voices: readonly ListedVoice[] = FIXTURE_VOICES, live = false): { engine: VoiceEngine; backend: VoiceListBackend } {
  const backend = new VoiceListBackend(voices, { sampleRateHz: RATE, framesPerSegment: RATE / 20 });
  const output = live ? new AudioOutput({ backend: 'null', sampleRateHz: RATE, channels: 1 }) : undefined;
  const engine = new VoiceEngine({ backend, sampleRateHz: RATE, ...(output ? { output } : {}) });
  closers.push(() => output?.close(), () => engine.close());
  return { engine, backend };
}

const speakers = (names: readonly string[]) => new Conversation(names.map((speaker) => ({ speaker, text: `${speaker} says hello.` })));

describe('default voices from the engine backend', () => {
  it("renders on a backend with its own voices: each speaker a distinct English voice of its list, genders alternating", async () => {
    const { engine, backend } = listEngine();
    const conversation = speakers(['Alice', 'Bob', 'Carol', 'Dave', 'Eve']);
    const result = await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual(['us_ava', 'us_cal', 'us_bea', 'gb_dan', 'us_ava']);
    expect(result.timeline.map((turn) => turn.voice)).toEqual(backend.voicesAsked);
    expect([...conversation.cast().values()].map((entry) => entry.voice)).toEqual(backend.voicesAsked);
  });

  it('plays live with the same defaults (engine.play)', async () => {
    const { engine, backend } = listEngine(FIXTURE_VOICES, true);
    const result = await engine.play(speakers(['Alice', 'Bob', 'Alice']));
    expect(result.skippedTurns).toBe(0);
    expect(backend.voicesAsked).toEqual(['us_ava', 'us_cal', 'us_ava']);
  });

  it('the cast wins; a speaker cast to another backend (espeak-ng) gets its defaults, counted per backend', async () => {
    const { engine, backend } = listEngine();
    const conversation = new Conversation(
      ['Alice', 'Bob', 'Carol', 'Dave'].map((speaker) => ({ speaker, text: `${speaker} here.` })),
      { cast: { bob: { voice: 'gb_dan' }, carol: { backend: 'espeak' } } },
    );
    expect([...(await conversation.castOn(engine)).values()].map((entry) => [entry.backend, entry.voice])).toEqual([
      [undefined, 'us_ava'],
      [undefined, 'gb_dan'],
      ['espeak', 'en-us'],
      [undefined, 'us_bea'],
    ]);
    await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual(['us_ava', 'gb_dan', 'us_bea']);
  });

  it("a fallback chain (this backend, then espeak-ng): defaults from its first member's voices", async () => {
    const backend = new VoiceListBackend(FIXTURE_VOICES, { sampleRateHz: RATE, framesPerSegment: RATE / 20 });
    const engine = new VoiceEngine({ backend, fallback: ['espeak'], sampleRateHz: RATE });
    closers.push(() => engine.close());
    expect((await engine.voices()).some((listed) => listed.id === 'en-us')).toBe(true);
    await engine.speak(speakers(['Alice', 'Bob']));
    expect(backend.voicesAsked).toEqual(['us_ava', 'us_cal']);
  });

  it('a one-voice backend: no voice handed out, speakers differ in pitch and rate', async () => {
    const { engine, backend } = listEngine([{ id: 'solo', language: 'en-US' }]);
    const conversation = speakers(['Alice', 'Bob']);
    await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual([undefined, undefined]);
    const [alice, bob] = [...conversation.cast().values()];
    expect([alice?.voice, bob?.voice]).toEqual([undefined, undefined]);
    expect(alice?.pitchSemitones).not.toBe(bob?.pitchSemitones);
  });

  it("a backend that lists no voice: every speaker gets the backend's own default, nothing invented", async () => {
    const { engine, backend } = listEngine([]);
    const conversation = speakers(['Alice', 'Bob']);
    await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual([undefined, undefined]);
    expect([...conversation.cast().values()]).toEqual([{}, {}]);
  });

  it("defaultVoices, when given, are used as written for the engine's backend; a speaker cast to another keeps its defaults", async () => {
    const { engine, backend } = listEngine();
    const conversation = new Conversation(['A', 'B', 'C', 'D'].map((speaker) => ({ speaker, text: 'Hi.' })), { defaultVoices: ['gb_dan', 'de_anna'], cast: { d: { backend: 'espeak' } } });
    expect([...conversation.cast().values()].map((entry) => entry.voice)).toEqual(['gb_dan', 'de_anna', 'gb_dan', undefined]);
    await engine.speak(conversation);
    expect(backend.voicesAsked).toEqual(['gb_dan', 'de_anna', 'gb_dan']);
    expect([...conversation.cast().values()].map((entry) => entry.voice)).toEqual(['gb_dan', 'de_anna', 'gb_dan', 'en-us']);
  });

  it('negative: an espeak-ng name given to this backend is refused (the check the defaults pass)', async () => {
    const { engine, backend } = listEngine();
    const error = await inputRejection(engine.speak(new Conversation([{ speaker: 'A', text: 'Hi.' }], { defaultVoices: [...DEFAULT_VOICES] })));
    expect(error).toMatchObject({ code: 'VOICE_UNKNOWN', field: 'options.voice' });
    expect(error.message).toMatch(/unknown voice "en-us"/);
    expect(backend.voicesAsked).toEqual([]);
  });

  it('espeak-ng keeps DEFAULT_VOICES (rendered: the voices asked are those)', async () => {
    const engine = new VoiceEngine();
    closers.push(() => engine.close());
    const conversation = speakers(['Alice', 'Bob', 'Carol']);
    const result = await engine.speak(conversation);
    expect(result.timeline.map((turn) => turn.voice)).toEqual(DEFAULT_VOICES.slice(0, 3));
  });
});

/** A VoiceListBackend whose voices() never answers (a plugin backend stuck listing). */
class HangingListBackend extends VoiceListBackend {
  override voices(): Promise<VoiceInfo[]> {
    return new Promise<VoiceInfo[]>(() => undefined);
  }
}

describe('a backend whose voices() never answers', () => {
  it("the caller's signal still ends a render and a live play waiting on the listing (AbortError; before: hung forever)", async () => {
    const backend = new HangingListBackend(FIXTURE_VOICES, { sampleRateHz: RATE, framesPerSegment: RATE / 20 });
    const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE, channels: 1 });
    const engine = new VoiceEngine({ backend, sampleRateHz: RATE, output });
    closers.push(() => output.close(), () => engine.close());
    const render = new AbortController();
    const rendering = engine.speak(speakers(['Alice', 'Bob']), { signal: render.signal });
    setTimeout(() => render.abort(), 20);
    await expect(rendering).rejects.toMatchObject({ code: 'ABORTED' });
    const live = new AbortController();
    const conversation = speakers(['Alice', 'Bob']);
    const playing = engine.play(conversation, { signal: live.signal });
    setTimeout(() => live.abort(), 20);
    await expect(playing).rejects.toMatchObject({ code: 'ABORTED' });
    // The conversation is not left "playing": it can be played again (aborted at once).
    await expect(engine.play(conversation, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(backend.voicesAsked).toEqual([]);
  });
});

describe('a listing that never answers, without a signal', () => {
  it('a fallback chain whose later member hangs listing: the render ends, its speakers on the backend default (before: hung forever)', async () => {
    const first = new VoiceListBackend(FIXTURE_VOICES, { sampleRateHz: RATE, framesPerSegment: RATE / 20 });
    const hanging = new HangingListBackend(FIXTURE_VOICES, { sampleRateHz: RATE, framesPerSegment: RATE / 20 });
    const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE, channels: 1 });
    const engine = new VoiceEngine({ backend: first, fallback: [hanging], sampleRateHz: RATE, output });
    closers.push(() => output.close(), () => engine.close());
    const rendered = await engine.speak(speakers(['Alice', 'Bob']));
    expect(rendered.audio.length).toBeGreaterThan(0);
    // No listing within LISTING_DEADLINE_MS: no voice handed out, the first member speaks with its own default.
    expect(first.voicesAsked).toEqual([undefined, undefined]);
    expect(hanging.voicesAsked).toEqual([]);
  }, 30_000);
});

describe('a backend listing ids no voice option takes', () => {
  it('an empty or over-long id is never handed out as a default (before: the render failed on a voice the caller never named)', async () => {
    const long = 'v'.repeat(201);
    const { engine, backend } = listEngine([{ id: '', language: 'en-US', gender: 'female' }, { id: long, language: 'en-US', gender: 'male' }, ...FIXTURE_VOICES]);
    await engine.speak(speakers(['Alice', 'Bob']));
    expect(backend.voicesAsked).toEqual(['us_ava', 'us_cal']);
    // Planted: with only such ids, nothing usable is listed: the backend's own default.
    const only = listEngine([{ id: '', language: 'en-US' }, { id: long, language: 'en-US' }]);
    await only.engine.speak(speakers(['Alice', 'Bob']));
    expect(only.backend.voicesAsked).toEqual([undefined, undefined]);
  });
});

describe('engine.voices()', () => {
  it("lists the engine backend's voices, or a named backend's; bad options and a closed engine are refused", async () => {
    const { engine } = listEngine();
    expect((await engine.voices()).map((listed) => listed.id)).toEqual(FIXTURE_VOICES.map((listed) => listed.id));
    expect((await engine.voices({ backend: 'espeak' })).map((listed) => listed.id)).toContain('en-us');
    expect(await inputRejection(engine.voices({ backend: '' }))).toMatchObject({ field: 'options.backend' });
    expect(await inputRejection(engine.voices({ backend: 'nope' }))).toMatchObject({ code: 'BACKEND_UNKNOWN' });
    await engine.close();
    await expect(engine.voices()).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
  });
});

describe('defaultsFromVoices', () => {
  const voice = (id: string, languages: string[], gender?: 'female' | 'male', backend = 'other'): VoiceInfo => ({ id, backend, name: id, languages, ...(gender ? { gender } : {}) });

  it('alternates genders in listing order, English first; falls back to every voice when fewer than two speak English', () => {
    const kokoroLike = [voice('af_a', ['en-US'], 'female'), voice('af_b', ['en-US'], 'female'), voice('am_c', ['en-US'], 'male'), voice('jf_d', ['ja'], 'female'), voice('bm_e', ['en-GB'], 'male')];
    expect(defaultsFromVoices(kokoroLike)).toEqual(['af_a', 'am_c', 'af_b', 'bm_e']);
    expect(defaultsFromVoices([voice('de1', ['de']), voice('en1', ['en']), voice('fr1', ['fr'])])).toEqual(['de1', 'en1', 'fr1']);
    expect(defaultsFromVoices([voice('x', ['en']), voice('x', ['en'])])).toBe('prosody');
    expect(defaultsFromVoices([])).toBe('none');
  });

  it('DEFAULT_VOICES only for espeak-ng listing their base voices, not for another backend listing the same ids', () => {
    const espeak = [voice('en-us', ['en-US'], 'male', 'espeak'), voice('en-us+f3', ['en-US'], 'female', 'espeak'), voice('en-gb', ['en-GB'], 'male', 'espeak')];
    expect(defaultsFromVoices(espeak)).toEqual(DEFAULT_VOICES);
    const lookalike = espeak.map((listed) => ({ ...listed, backend: 'cloud' }));
    expect(defaultsFromVoices(lookalike)).toEqual(['en-us', 'en-us+f3', 'en-gb']);
    expect(defaultsFromVoices(espeak.slice(0, 2))).toEqual(['en-us', 'en-us+f3']);
    // A chain's list, first member first: only the first backend's voices count.
    expect(defaultsFromVoices([voice('a1', ['en'], 'female'), voice('a2', ['en'], 'male'), ...espeak])).toEqual(['a1', 'a2']);
  });
});
