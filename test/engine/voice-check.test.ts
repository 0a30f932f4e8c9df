import { afterAll, describe, expect, it } from 'vitest';
import type { SpeechBackend } from '../../src/backends/backend.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';

/** Runs `speak` and returns its error, checking the registrar saw no request at all. */
async function refusedBeforeAnyRequest(engine: VoiceEngine, run: () => Promise<unknown>): Promise<InputError> {
  const before = engine.registrar.listStates().length;
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  expect(engine.registrar.listStates().length).toBe(before);
  return error as InputError;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream);
}

describe('voices and languages are checked before a stream starts', () => {
  const engine = new VoiceEngine();
  afterAll(() => engine.close());

  it('an unknown options.voice is an InputError naming options.voice', async () => {
    const error = await refusedBeforeAnyRequest(engine, () => engine.speak('Hello.', { voice: 'klingon' }));
    expect(error).toMatchObject({ code: 'VOICE_UNKNOWN', field: 'options.voice' });
    expect(error.message).toMatch(/^options\.voice: unknown voice "klingon": expected an espeak-ng voice/);
    const streamed = await refusedBeforeAnyRequest(engine, () => drain(engine.stream('Hello.', { voice: 'en-us+nope' })));
    expect(streamed).toMatchObject({ code: 'VOICE_UNKNOWN', field: 'options.voice' });
  });

  it('an unknown SSML <voice name> is an InputError naming the element by line and column', async () => {
    const ssml = '<speak>\n  Hello <voice name="klingon">Qapla</voice>.\n</speak>';
    const error = await refusedBeforeAnyRequest(engine, () => engine.speak(ssml));
    expect(error).toMatchObject({ code: 'VOICE_UNKNOWN', field: 'input:2:9' });
    expect(error.message).toMatch(/^input 2:9: <voice name="klingon">: unknown voice "klingon"/);
  });

  it('a language espeak-ng has no voice for is an InputError naming options.language or the SSML element', async () => {
    const option = await refusedBeforeAnyRequest(engine, () => engine.speak('Hello.', { language: 'tlh' }));
    expect(option).toMatchObject({ code: 'LANGUAGE_UNSUPPORTED', field: 'options.language' });
    const ssml = await refusedBeforeAnyRequest(engine, () => engine.speak('<speak>Hi. <s xml:lang="tlh">Qapla</s></speak>'));
    expect(ssml).toMatchObject({ code: 'LANGUAGE_UNSUPPORTED', field: 'input:1:12' });
    expect(ssml.message).toContain('<s xml:lang="tlh">');
  });

  it('a live text source is checked against the call options', async () => {
    async function* pieces() {
      yield 'Hello there.';
    }
    const error = await refusedBeforeAnyRequest(engine, () => drain(engine.stream(pieces(), { voice: 'klingon' })));
    expect(error).toMatchObject({ code: 'VOICE_UNKNOWN', field: 'options.voice' });
  });

  it('known voices, variants and languages still speak', async () => {
    const result = await engine.speak('<speak>Hello <voice name="de+f3">Guten Tag</voice>. <s xml:lang="fr-FR">Bonjour.</s></speak>', { language: 'en-GB' });
    expect(result.durationMs).toBeGreaterThan(500);
    expect((await engine.speak('Hallo.', { voice: 'chr-US-Qaaa-x-west' })).durationMs).toBeGreaterThan(100);
  });

  it('negative: a backend without checkVoice lets the unknown SSML voice through to synthesis (the check is what refuses it)', async () => {
    const espeak = new EspeakBackend();
    // The same espeak backend with its check removed.
    const unchecked: SpeechBackend = {
      name: espeak.name,
      capabilities: espeak.capabilities,
      voices: () => espeak.voices(),
      synthesize: (segment, options, signal) => espeak.synthesize(segment, options, signal),
      health: () => espeak.health(),
      metrics: () => espeak.metrics(),
      close: () => espeak.close(),
    };
    const planted = new VoiceEngine({ backend: unchecked });
    try {
      const before = planted.registrar.listStates().length;
      const error = await planted.speak('<speak>Hello <voice name="klingon">Qapla</voice>.</speak>').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeDefined();
      expect(error).not.toBeInstanceOf(InputError);
      expect(planted.registrar.listStates().length).toBeGreaterThan(before);
    } finally {
      await planted.close();
      await espeak.close();
    }
  });
});
