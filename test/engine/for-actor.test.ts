/**
 * `engine.forActor(handle)`: an engine for another actor of the same registrar that shares the
 * host engine's backend and device, and whose close() ends only its own streams.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { encodeWav } from '../../src/audio/wav.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { Scene } from '../../src/scene/scene.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { InputError } from '../../src/errors.js';
import { allow, deny } from '../../src/security/content-filter.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { rejection } from '../helpers/errors.js';
import { waitUntil } from '../helpers/waiting.js';

/** A host engine on the null device and a guest it made for `agent:guest`; all closed after `run`. */
async function withGuest(run: (parts: { registrar: AudioRegistrar; host: VoiceEngine; guest: VoiceEngine }) => Promise<void>): Promise<void> {
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null' });
  const host = new VoiceEngine({ registrar, backend: new ConstantLevelBackend({ level: 0.25, sampleRateHz: 24_000, framesPerSegment: 480 }), output });
  try {
    const guest = await host.forActor(registrar.registerActor('agent:guest'));
    await run({ registrar, host, guest });
    await guest.close();
  } finally {
    await host.close();
    output.close();
  }
}

describe('VoiceEngine.forActor', () => {
  it("speaks as the given actor on the host's device and backend; closing it leaves both open", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', capture: true });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const host = new VoiceEngine({ registrar, backend, output });
    const agent = registrar.registerActor('agent:guest');
    const guest = await host.forActor(agent, { policy: 'mix' });
    try {
      expect(guest.actor).toBe(agent);
      const played = await guest.play('One. Two.');
      expect(registrar.getState(played.streamId)?.owner).toBe('agent:guest');
      expect(backend.yieldedChunks).toBe(2);
      await guest.close();
      // The host's backend and device still serve.
      const after = await host.play('Three.');
      expect(after.durationMs).toBeGreaterThan(0);
      expect(backend.yieldedChunks).toBe(3);
    } finally {
      await host.close();
      output.close();
    }
  });

  it("lets no engine escape what its host pinned: forActor takes only `policy` (planted: a guest's own forActor(guest.actor, { sessionId }) left the session the host pinned, outside the user's override, and dropped the host's content filter)", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const host = new VoiceEngine({ registrar, backend, output, sessionId: 'den', contentFilter: (text) => (text.includes('forbidden') ? deny('planted') : allow()) });
    try {
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      for (const escape of [{ sessionId: 'elsewhere' }, { userId: 'nobody' }, { contentFilter: undefined }, { admissionTimeoutMs: 600_000 }, { policy: 'mix', watermark: undefined }]) {
        const error = await rejection(guest.forActor(guest.actor, escape as never));
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toMatch(/forActor options/);
      }
      // What it may pass still works, and the pins hold on the engine it makes.
      const mixing = await guest.forActor(guest.actor, { policy: 'mix' });
      const played = await mixing.play('Allowed.');
      expect(registrar.getState(played.streamId)?.sessionId).toBe('den');
      await expect(mixing.play('forbidden words')).rejects.toThrow();
      await mixing.close();
      await guest.close();
    } finally {
      await host.close();
      output.close();
    }
  });

  it("marks a guest's streams as its host's: a guest's call cannot set or change the watermark (planted: an agent holding a guest engine passed its own key and payload, evading the host's detector or writing another tenant's payload)", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', capture: true });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const host = new VoiceEngine({ registrar, backend, output, watermark: { key: 'host-tenant-key', payload: 7 } });
    const dir = mkdtempSync(join(tmpdir(), 'vs-guest-mark-'));
    try {
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      const before = registrar.attestationStore.lastSeq;
      const forged = { watermark: { key: 'another-tenant-key', payload: 9 } };
      for (const call of [() => guest.speak('Hello.', forged), () => guest.play('Hello.', forged), () => guest.speakToFile('Hello.', new Writable({ write: (_chunk, _encoding, done) => done() }), { ...forged, audioFormat: 'wav' })]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(InputError);
        expect(error).toMatchObject({ field: 'options.watermark' });
      }
      // Refused before any registrar request, and no file was written.
      expect(registrar.attestationStore.lastSeq).toBe(before);
      expect(existsSync(join(dir, 'guest.wav'))).toBe(false);
      // The guest speaks with the host's mark; the host itself may still mark one call its own way.
      expect((await guest.speak('Hello.')).audio.length).toBeGreaterThan(0);
      expect((await host.speak('Hello.', { watermark: { key: 'host-tenant-key', payload: 8 } })).audio.length).toBeGreaterThan(0);
    } finally {
      await host.close();
      output.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes only a handle: a guest cannot name an actor to act as it (planted: guest.forActor('user:alice') gave an engine acting as the user, which interrupted her stream; 'system:voice-engine' the runtime's)", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const host = new VoiceEngine({ registrar, backend, output });
    const alice = registrar.registerActor('user:alice');
    const aliceEngine = new VoiceEngine({ registrar, backend, output, actor: alice });
    try {
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      const hers = aliceEngine.play('A long reply. '.repeat(200), { policy: 'mix' });
      hers.catch(() => undefined);
      let streamId = '';
      await waitUntil(() => (streamId = aliceEngine.activeStreams()[0] ?? '') !== '' && registrar.getState(streamId)?.state === 'playing', "alice's stream to play");
      // Names, a JSON round trip, a spread copy and a Proxy of her handle: none is her handle.
      for (const forged of ['user:alice', 'system:voice-engine', 'user:mallory', JSON.parse(JSON.stringify(alice)), { ...alice }, new Proxy(alice, {})]) {
        const error = await rejection(guest.forActor(forged as never));
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toMatch(/forActor: actor: expected an ActorHandle/);
      }
      // Nothing was registered under a name a guest made up, and her stream plays on.
      expect(registrar.requestAsHost({ action: 'start', actor: 'user:mallory' }).reason).toBe('unknown_actor');
      expect(registrar.getState(streamId)?.state).toBe('playing');
      expect(registrar.attestationStore.query({ target: streamId, action: 'interrupt' })).toEqual([]);
      // Her own engine still interrupts it: the handle is the capability.
      expect(aliceEngine.interrupt(streamId).allowed).toBe(true);
      await hers;
      await guest.close();
    } finally {
      await aliceEngine.close();
      await host.close();
      output.close();
    }
  });

  it("keeps a guest's calls within the default input bounds: a call cannot raise maxInputChars or textStream.maxPendingChars (planted: a guest's 10-million-character call compiled for seconds on the host's event loop, every play on it starving)", async () => {
    await withGuest(async ({ registrar, host, guest }) => {
      const before = registrar.attestationStore.lastSeq;
      const raised = await rejection(guest.speak('Hi.', { maxInputChars: 100_001 }));
      expect(raised).toBeInstanceOf(InputError);
      expect(raised.message).toMatch(/options\.maxInputChars: .*at most 100000/);
      const live = (async function* () {
        yield 'Hi.';
      })();
      const pending = await rejection(guest.play(live, { textStream: { maxPendingChars: 1_000_000 } }));
      expect(pending).toBeInstanceOf(InputError);
      expect(pending.message).toMatch(/options\.textStream\.maxPendingChars: .*at most 16384/);
      expect(registrar.attestationStore.lastSeq).toBe(before);
      // Lower bounds are the guest's to choose; the host's own calls may go higher.
      await expect(guest.speak('Hi there.', { maxInputChars: 5 })).rejects.toThrow(/maxInputChars/);
      expect((await guest.speak('Hi.', { maxInputChars: 50 })).streamId).toEqual(expect.any(String));
      expect((await host.speak('Hi.', { maxInputChars: 200_000 })).streamId).toEqual(expect.any(String));
    });
  });

  it("bounds what one guest call can make speak() hold: at most 30 minutes of speech (estimated, pauses and rate included), no sample rate above 48 kHz or its host's (planted: 14,000 characters of pauses rendered 1 GB in 1.4 s; a slow rate multiplies the longest text by 4)", async () => {
    await withGuest(async ({ registrar, host, guest }) => {
      const before = registrar.attestationStore.lastSeq;
      const paused = await rejection(guest.speak('a [pause 10s] '.repeat(200), { format: 'markup' }));
      expect(paused).toBeInstanceOf(InputError);
      expect(paused.message).toMatch(/text: it would last about 34 min \(estimated from its text, pauses and rate\); this engine \(made by forActor\) speaks at most 30 min per call/);
      const ssmlPaused = await rejection(guest.speak(`<speak>${'a <break time="10s"/> '.repeat(200)}</speak>`, { format: 'ssml' }));
      expect(ssmlPaused.message).toMatch(/would last about 34 min/);
      const slow = await rejection(guest.speak('The quick brown fox jumps over the lazy dog. '.repeat(200), { rate: 0.25 }));
      expect(slow.message).toMatch(/text: it would last about \d+ min/);
      const upsampled = await rejection(guest.speak('Hi.', { sampleRateHz: 192_000 }));
      expect(upsampled.message).toMatch(/options\.sampleRateHz: this engine \(made by forActor\) takes at most 48000/);
      expect(registrar.attestationStore.lastSeq).toBe(before);
      // Within the bounds it speaks; the host's own calls are not bounded so.
      expect((await guest.speak('a [pause 10s] '.repeat(2), { format: 'markup', sampleRateHz: 48_000 })).durationMs).toBeGreaterThan(20_000);
      expect((await host.speak('a [pause 10s] '.repeat(200), { format: 'markup' })).durationMs).toBeGreaterThan(30 * 60_000);
    });
  });

  it("bounds what a guest's speak() calls hold together: at most 30 minutes of speech in flight, its own engines' calls included (planted: concurrent calls of 30 min each held 0.9 GB per four, growing without bound)", async () => {
    // The host's backend holds every segment "hold" until released: a call stays in flight while others come.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const host = new VoiceEngine({ registrar, output, backend: new ConstantLevelBackend({ level: 0.25, sampleRateHz: 24_000, framesPerSegment: 480, stallFor: (text) => (text.includes('hold') ? held : undefined) }) });
    try {
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      const inner = await guest.forActor(guest.actor);
      const seventeenMinutes = 'hold [pause 10s] '.repeat(100);
      const first = guest.speak(seventeenMinutes, { format: 'markup' });
      await waitUntil(() => guest.activeStreams().length === 1, 'the first call in flight');
      const before = registrar.attestationStore.lastSeq;
      for (const [engine, text] of [[guest, seventeenMinutes], [inner, seventeenMinutes], [guest, 'a [pause 10s] '.repeat(80)]] as const) {
        const refused = await rejection(engine.speak(text, { format: 'markup' }));
        expect(refused).toBeInstanceOf(InputError);
        expect(refused.message).toMatch(/^text: it would last about \d+ min, and this engine's calls \(made by forActor\) hold about 17 min of speech already; they hold at most 30 min at once/);
      }
      expect(registrar.attestationStore.lastSeq).toBe(before); // refused before any request
      // What fits next to it is spoken; the host's own calls are not bounded so.
      expect((await inner.speak('a [pause 10s] '.repeat(6), { format: 'markup' })).durationMs).toBeGreaterThan(60_000);
      expect((await host.speak(seventeenMinutes.replaceAll('hold', 'a'), { format: 'markup' })).durationMs).toBeGreaterThan(16 * 60_000);
      release();
      expect((await first).durationMs).toBeGreaterThan(16 * 60_000);
      // Once it ended, its share is free again (a refused or failed call holds none).
      expect((await guest.speak(seventeenMinutes, { format: 'markup' })).durationMs).toBeGreaterThan(16 * 60_000);
      await inner.close();
      await guest.close();
    } finally {
      release();
      await host.close();
      output.close();
    }
  });

  it("lets a guest's calls read no local audio file: allowAudio and audioRoot are the host's (planted: a guest's SSML <audio> with audioRoot '/' returned a host file's samples)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-guest-clip-'));
    const clip = join(dir, 'private.wav');
    writeFileSync(clip, encodeWav(new Float32Array(2400).fill(0.5), { sampleRateHz: 24_000, channels: 1, format: 's16' }));
    const ssmlText = `<speak>Hi. <audio src="${clip}"/></speak>`;
    try {
      await withGuest(async ({ host, guest }) => {
        for (const asked of [{ allowAudio: true, audioRoot: '/' }, { allowAudio: true }, { audioRoot: dir }]) {
          const error = await rejection(guest.speak(ssmlText, { format: 'ssml', ...asked }));
          expect(error).toBeInstanceOf(InputError);
          expect(error.message).toMatch(/options\.(allowAudio|audioRoot): this engine \(made by forActor\) reads no local audio file/);
        }
        // The host's own call still may.
        const hosted = await host.speak(ssmlText, { format: 'ssml', allowAudio: true, audioRoot: dir });
        expect(hosted.audio.some((sample) => sample > 0.4)).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets a guest write no file by path, only to a stream its host opened (planted: a guest's speakToFile replaced a file of the host's with speech)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-guest-file-'));
    const hostFile = join(dir, 'recording.wav');
    writeFileSync(hostFile, 'the host\'s recording');
    try {
      await withGuest(async ({ registrar, host, guest }) => {
        const before = registrar.attestationStore.size;
        const error = await rejection(guest.speakToFile('Overwritten.', hostFile));
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toMatch(/^path: this engine \(made by forActor\) writes no file by path/);
        expect(readFileSync(hostFile, 'utf8')).toBe('the host\'s recording');
        expect(registrar.attestationStore.size).toBe(before); // refused before any request
        // A stream the host opened: written.
        const chunks: Buffer[] = [];
        const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) });
        const written = await guest.speakToFile('Into the host\'s stream.', sink, { audioFormat: 'wav' });
        expect(written.durationMs).toBeGreaterThan(0);
        expect(Buffer.concat(chunks).subarray(0, 4).toString('latin1')).toBe('RIFF');
        // The host's own call still writes by path.
        await host.speakToFile('Host file.', join(dir, 'host.wav'));
        expect(existsSync(join(dir, 'host.wav'))).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses another registrar's handle, registering nothing", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const host = new VoiceEngine({ registrar, output });
    try {
      const foreign = new AudioRegistrar().registerActor('agent:intruder');
      await expect(host.forActor(foreign)).rejects.toThrow(InputError);
      await expect(host.forActor(foreign)).rejects.toThrow(/another registrar/);
      expect(() => new VoiceEngine({ registrar, actor: foreign, output })).toThrow(/another registrar/);
      // Refused before anything was registered (planted: the name was registered on the host's
      // registrar first, then refused: any foreign handle made its name a registered actor here).
      expect(registrar.requestAsHost({ action: 'start', actor: 'agent:intruder' }).reason).toBe('unknown_actor');
      expect(registrar.issued(foreign)).toBe(false);
      expect(registrar.issued(host.actor)).toBe(true);
      expect(registrar.issued({ ...host.actor })).toBe(false);
    } finally {
      await host.close();
      output.close();
    }
  });

  it("uses the host's plugins (loaded once), cannot load its own, and leaves them to the host when closed", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null' });
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    const beat = fileURLToPath(new URL('../../examples/plugins/beat-markup.mjs', import.meta.url));
    const host = new VoiceEngine({ registrar, backend, output, plugins: [{ source: beat }] });
    try {
      const plain = await host.speak('One.');
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      // The host's plugin runs for the guest's streams: the <beat> becomes a one-second pause.
      const beaten = await guest.speak('One. <beat>');
      expect(beaten.durationMs - plain.durationMs).toBeGreaterThanOrEqual(1000);
      expect(guest.plugins().plugins).toEqual(host.plugins().plugins);
      const error = await rejection(guest.loadPlugin(beat));
      expect(error.code).toBe('PLUGIN_LOAD_FAILED');
      expect(error.message).toMatch(/shares its host engine's plugins: load plugins on the host engine/);
      await guest.close();
      // Closing the guest did not dispose the host's plugins.
      const again = await host.speak('One. <beat>');
      expect(again.durationMs - plain.durationMs).toBeGreaterThanOrEqual(1000);
      expect(host.plugins().faults).toEqual([]);
    } finally {
      await host.close();
      output.close();
    }
  });
  it("plays no host audio file for a guest's scene (a file layer or effect: the host's private recordings, taken back with retainAudio) and bounds its render", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-guest-scene-'));
    try {
      const secret = join(dir, 'private-recording.wav');
      writeFileSync(secret, encodeWav(new Float32Array(24_000).fill(0.5), { sampleRateHz: 24_000, channels: 1, format: 'f32' }));
      await withGuest(async ({ host, guest }) => {
        const music = new Scene({ durationMs: 500 }).addMusic(secret);
        const effect = new Scene({ durationMs: 500 }).addAmbiance('rain').addEffect(100, secret);
        const byMusic = await rejection(guest.play(music, { retainAudio: true }));
        expect(byMusic).toMatchObject({ name: 'InputError', code: 'SCENE_SOURCE_FORBIDDEN', field: 'scene.layers.music-0.file' });
        const byEffect = await rejection(guest.play(effect, { retainAudio: true }));
        expect(byEffect).toMatchObject({ name: 'InputError', code: 'SCENE_SOURCE_FORBIDDEN', field: 'scene.effects.0.file' });
        // A guest's scene without files plays; the host's scene with the file plays too (its own call).
        expect((await guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain'))).durationMs).toBeGreaterThan(0);
        const heard = await host.play(music, { retainAudio: true });
        expect(heard.audio.some((sample) => Math.abs(sample) > 0.1)).toBe(true);
        // A render past the guest's 1 GiB of buses is refused before anything is allocated (the host may take 8 GiB).
        const long = new Scene({ durationMs: 60 * 60_000 }).addAmbiance('rain').addAmbiance('wind');
        expect(await rejection(guest.play(long))).toMatchObject({ code: 'SCENE_TOO_LARGE', field: 'scene.durationMs' });
        // Rendered directly with the guest (scene.render / renderToFile), the scene keeps the guest's limits too.
        expect(await rejection(music.render(guest))).toMatchObject({ code: 'SCENE_SOURCE_FORBIDDEN', field: 'scene.layers.music-0.file' });
        expect(await rejection(effect.renderToFile(guest, join(dir, 'out.wav')))).toMatchObject({ code: 'SCENE_SOURCE_FORBIDDEN' });
        expect(existsSync(join(dir, 'out.wav'))).toBe(false);
        // One scene at a time per guest, from its render to the end of its play (a queued play holds its whole mix):
        // a second while the first renders, or plays, is refused naming `scene`; after it, the next is taken.
        const first = guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain'));
        expect(await rejection(guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain')))).toMatchObject({ name: 'InputError', field: 'scene' });
        await waitUntil(() => guest.activeStreams().length > 0, 'the first scene to play');
        expect(await rejection(guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain')))).toMatchObject({ name: 'InputError', field: 'scene' });
        await first;
        expect((await guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain'))).durationMs).toBeGreaterThan(0);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a guest holds one mix at a time: a conversation's speak() (every turn held until its mixdown) or a scene's play; a second meanwhile is refused (planted: three concurrent 21-minute conversations were all taken)", async () => {
    await withGuest(async ({ guest }) => {
      const turns = [{ speaker: 'Alice', text: 'One. Two.' }, { speaker: 'Bob', text: 'Three.' }];
      const first = guest.speak(new Conversation(turns));
      expect(await rejection(guest.speak(new Conversation(turns)))).toMatchObject({ name: 'InputError', field: 'conversation' });
      expect(await rejection(guest.play(new Scene({ durationMs: 300 }).addAmbiance('rain')))).toMatchObject({ name: 'InputError', field: 'scene' });
      expect((await first).durationMs).toBeGreaterThan(0);
      // Once it ended, the next is taken.
      expect((await guest.speak(new Conversation(turns))).durationMs).toBeGreaterThan(0);
    });
  });
  it("holds a guest to one mix however it is rendered: conversation.render/speak(guest) and scene.render/renderToFile(guest) take the same slot as engine.speak/play (planted: a conversation rendered directly, or a scene, took no slot, so concurrent renders held a mix each)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-guest-mix-'));
    try {
      await withGuest(async ({ host, guest }) => {
        const turns = [{ speaker: 'Alice', text: 'One. Two.' }, { speaker: 'Bob', text: 'Three.' }];
        const rain = () => new Scene({ durationMs: 300 }).addAmbiance('rain');
        // Each render holds the slot from its call until it settles: every other way of rendering a mix,
        // called meanwhile (here: in the same turn, so before the first can end), is refused naming its field.
        const renders: Array<[string, 'scene' | 'conversation', () => Promise<unknown>]> = [
          ['conversation.render', 'conversation', () => new Conversation(turns).render(guest)],
          ['conversation.speak', 'conversation', () => new Conversation(turns).speak(guest)],
          ['engine.speak(conversation)', 'conversation', () => guest.speak(new Conversation(turns))],
          ['scene.render', 'scene', () => rain().render(guest)],
          ['scene.renderToFile', 'scene', () => rain().renderToFile(guest, join(dir, 'scene.wav'))],
          ['engine.play(scene)', 'scene', () => guest.play(rain())],
        ];
        for (const [name, , hold] of renders) {
          const first = hold();
          const meanwhile = renders.map(([other, field, second]) => [`${other} while ${name} renders`, field, second()] as const);
          for (const [label, field, second] of meanwhile) expect(await rejection(second), label).toMatchObject({ name: 'InputError', field });
          await first;
        }
        // A scene with a conversation in a dialogue layer is one mix: it renders (the conversation takes no second slot).
        const withDialogue = new Scene({ durationMs: 3000 }).addAmbiance('rain').addDialogue(new Conversation(turns));
        expect((await withDialogue.render(guest)).durationMs).toBe(3000);
        expect((await guest.play(withDialogue)).durationMs).toBeGreaterThan(0);
        // The host's renders take no slot: two at once go.
        const both = await Promise.all([new Conversation(turns).render(host), new Conversation(turns).render(host), rain().render(host)]);
        expect(both).toHaveLength(3);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("holds a guest to one mix through the mix interfaces too: scene.renderMix(guest) and a Conversation's held-mix method called directly take the slot (planted: both rendered a whole mix beside the one holding it, concurrently without bound)", async () => {
    await withGuest(async ({ guest }) => {
      const turns = [{ speaker: 'Alice', text: 'One. Two.' }, { speaker: 'Bob', text: 'Three.' }];
      const rain = () => new Scene({ durationMs: 300 }).addAmbiance('rain');
      const first = rain().render(guest);
      // PlayableMix.renderMix is public: what engine.play calls inside its own slot, anyone may call.
      expect(await rejection(rain().renderMix(guest, 48_000)), 'scene.renderMix while a scene renders').toMatchObject({ name: 'InputError', field: 'scene' });
      // Every symbol-keyed method of a Conversation is reachable (Object.getOwnPropertySymbols).
      for (const symbol of Object.getOwnPropertySymbols(Conversation.prototype)) {
        const method = (Conversation.prototype as unknown as Record<symbol, unknown>)[symbol];
        if (typeof method !== 'function') continue;
        const conversation = new Conversation(turns);
        const called = (async () => (method as (engine: unknown) => Promise<unknown>).call(conversation, guest))();
        expect(await rejection(called), `Conversation.prototype[${String(symbol)}] while a scene renders`).toMatchObject({ name: 'InputError', field: 'conversation' });
      }
      await first;
      // A dialogue source of the caller's own renders conversations as the caller would: each takes the slot the scene holds.
      const twice = { render: async (engine: VoiceEngine) => (await Promise.all([new Conversation(turns).render(engine), new Conversation(turns).render(engine)]))[0] };
      expect(await rejection(new Scene({ durationMs: 3000 }).addDialogue(twice).render(guest)), 'a DialogueSource rendering two conversations').toMatchObject({ name: 'InputError', field: 'conversation' });
      // Alone, renderMix renders (it takes the slot itself), and engine.play(scene) still plays (one slot for its render and play).
      expect((await rain().renderMix(guest, 48_000)).channels).toBe(2);
      expect((await guest.play(new Scene({ durationMs: 3000 }).addAmbiance('rain').addDialogue(new Conversation(turns)))).durationMs).toBeGreaterThan(0);
    });
  });
  it("holds a guest's call to its 30 minutes as it would be spoken: under a user's override (pauses lengthened, every word at her rate), at validation and again when the run compiles (planted: 10 minutes asked, 40 spoken)", async () => {
    const text = 'a [pause 10s] '.repeat(60); // about 10 minutes, nearly all pauses
    // At validation: the override covering the call now counts.
    await withGuest(async ({ registrar, guest }) => {
      const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
      expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den', pauseAmplification: 4 } }).allowed).toBe(true);
      const before = registrar.listStates().length;
      expect(await rejection(guest.speak(text, { sessionId: 'den' }))).toMatchObject({ name: 'InputError', field: 'text' });
      expect(registrar.listStates().length).toBe(before);
    });
    // Enabled after validation (here from the host's content filter, which runs before the compile): the run refuses it, the stream failed.
    const registrar = new AudioRegistrar();
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    const output = new AudioOutput({ backend: 'null' });
    const enableOnce = () => {
      if (registrar.listOverrides().length === 0) registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den', pauseAmplification: 4 } });
      return allow();
    };
    const host = new VoiceEngine({ registrar, backend: new ConstantLevelBackend({ level: 0.25, sampleRateHz: 24_000, framesPerSegment: 480 }), output, contentFilter: enableOnce });
    try {
      const guest = await host.forActor(registrar.registerActor('agent:guest'));
      expect(await rejection(guest.speak(text, { sessionId: 'den' }))).toMatchObject({ field: 'text' });
      expect(registrar.listStates().map((stream) => stream.state)).toEqual(['failed']);
      await guest.close();
    } finally {
      await host.close();
      output.close();
    }
  });
});
