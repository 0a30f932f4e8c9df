import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { AuditLogger } from '../../src/security/audit-log.js';
import { allow, auditedContentFilter, deny, replace, type ContentFilter, type ContentFilterContext } from '../../src/security/content-filter.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { rejection } from '../helpers/errors.js';
import { nullDevice } from '../helpers/null-device-host.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';

const directory = mkdtempSync(join(tmpdir(), 'vs-filter-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const opened = closedAfterEach();
const engines: VoiceEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

function setup(contentFilter: ContentFilter) {
  const backend = new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 80, gapFrames: 40, level: 0.3 });
  const store = new AttestationStore();
  const registrar = new AudioRegistrar({ store });
  const engine = new VoiceEngine({ backend, registrar, contentFilter, actor: 'agent:writer' });
  engines.push(engine);
  return { backend, store, registrar, engine };
}

async function* source(parts: string[]): AsyncGenerator<string> {
  for (const part of parts) yield part;
}

describe('content filter', () => {
  it('allow: speaks the text as it is, and the filter sees the stream, actor and format', async () => {
    const seen: Array<[string, ContentFilterContext]> = [];
    const { backend, engine } = setup((text, context) => {
      seen.push([text, context]);
      return allow();
    });
    const result = await engine.speak('Hello there.', { sessionId: 'den' });
    expect(backend.segments.join(' ')).toContain('Hello there');
    expect(seen).toEqual([['Hello there.', { streamId: result.streamId, actor: 'agent:writer', format: 'auto', live: false, sessionId: 'den', spokenText: 'Hello there.' }]]);
  });

  it('deny: no audio, the stream fails with the reason through the registrar (attested)', async () => {
    const { backend, store, engine } = setup(async (text) => (text.includes('forbidden') ? deny('policy 7: forbidden word') : allow()));
    const error = await rejection(engine.speak('Say the forbidden word.'));
    expect(error.code).toBe('CONTENT_FILTER_DENIED');
    expect(error.message).toBe('content filter denied the text: policy 7: forbidden word');
    expect(backend.segments).toEqual([]);
    const failed = store.all().filter((record) => record.action === 'fail');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.decision).toBe('allowed');
    expect(JSON.stringify(failed[0])).toContain('content filter denied the text: policy 7: forbidden word');
    expect(store.all().some((record) => record.action === 'play')).toBe(false);
  });

  it('deny on every face (play, a live play, speakToFile with and without play, stream): CONTENT_FILTER_DENIED, one fail attested per stream, no play, nothing on the device, no file', async () => {
    const backend = new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 80, gapFrames: 40, level: 0.3 });
    const registrar = new AudioRegistrar();
    const output = nullDevice(opened, { captureSeconds: 5 });
    const engine = new VoiceEngine({ backend, registrar, output, actor: 'agent:writer', contentFilter: (text) => (text.includes('forbidden') ? deny('policy 7') : allow()) });
    opened.push(engine);
    const path = join(directory, 'denied.wav');
    const faces: Array<[string, () => Promise<unknown>]> = [
      ['play', () => engine.play('Say the forbidden word.')],
      ['live play', () => engine.play(source(['The forbidden piece first. ', 'Then more.']))],
      ['speakToFile', () => engine.speakToFile('Say the forbidden word.', path)],
      ['speakToFile play', () => engine.speakToFile('Say the forbidden word.', path, { play: true })],
      ['stream', async () => { for await (const chunk of engine.stream('Say the forbidden word.')) void chunk; }],
    ];
    for (const [face, call] of faces) expect((await rejection(call())).code, face).toBe('CONTENT_FILTER_DENIED');
    const streams = new Set(registrar.attestationStore.all().filter((record) => record.action === 'start').map((record) => JSON.stringify(record.target)));
    expect(streams.size).toBe(faces.length);
    const fails = registrar.attestationStore.all().filter((record) => record.action === 'fail');
    expect(fails.map((record) => record.decision)).toEqual(faces.map(() => 'allowed'));
    expect(fails.every((record) => JSON.stringify(record).includes('content filter denied the text: policy 7'))).toBe(true);
    expect(registrar.attestationStore.all().some((record) => record.action === 'play')).toBe(false);
    expect(backend.segments).toEqual([]);
    expect(output.readCapture().some((sample) => sample !== 0)).toBe(false);
    expect(existsSync(path)).toBe(false);
  });

  it('replace: the replacement is compiled and spoken, never the original', async () => {
    const { backend, engine } = setup((text) => replace(text.replace(/darn/g, 'bleep')));
    await engine.speak('Oh darn it. <speak> stays text');
    expect(backend.segments.join(' ')).toContain('bleep');
    expect(backend.segments.join(' ')).not.toContain('darn');
  });

  it('a live text source is judged piece by piece; a denied piece fails the stream before it is spoken', async () => {
    const judged: string[] = [];
    const { backend, store, engine } = setup((text) => {
      judged.push(text);
      return text.includes('secret') ? deny('leaks a secret') : allow();
    });
    const error = await rejection((async () => {
      for await (const _chunk of engine.stream(source(['First sentence here. ', 'The secret ', 'is out. ', 'Never said.'])));
    })());
    expect(error.code).toBe('CONTENT_FILTER_DENIED');
    expect(judged[0]).toBe('First sentence here.');
    expect(backend.segments.join(' ')).not.toContain('secret');
    expect(backend.segments.join(' ')).not.toContain('Never');
    const failed = store.all().filter((record) => record.action === 'fail');
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0])).toContain('content filter denied the text: leaks a secret');
  });

  it('the filter also gets the words as spoken, so markup cannot spell a word past it', async () => {
    const { backend, engine } = setup((text, context) => (/password/i.test(`${text} ${context.spokenText}`) ? deny('mentions a password') : allow()));
    for (const spelled of ['<speak>the &#112;assword is</speak>', '<speak>the <sub alias="password">key</sub> is</speak>']) {
      expect((await rejection(engine.speak(spelled))).code).toBe('CONTENT_FILTER_DENIED');
    }
    expect(backend.segments).toEqual([]);
  });

  it('a filter that throws or answers nonsense fails closed', async () => {
    const throwing = setup(() => {
      throw new Error('classifier down');
    });
    expect((await rejection(throwing.engine.speak('Hello.'))).code).toBe('CONTENT_FILTER_FAILED');
    expect(throwing.backend.segments).toEqual([]);
    const nonsense = setup(() => ({ action: 'maybe' }) as never);
    expect((await rejection(nonsense.engine.speak('Hello.'))).message).toBe('the content filter answered neither allow(), deny(reason) nor replace(text)');
    expect(nonsense.backend.segments).toEqual([]);
  });

  it('auditedContentFilter logs denials and replacements, the text only when enabled', async () => {
    const path = join(directory, 'audit.jsonl');
    const audit = new AuditLogger({ destination: path });
    const { engine } = setup(auditedContentFilter((text) => (text.startsWith('No') ? deny('blocked') : replace('fine')), audit));
    await rejection(engine.speak('No way.'));
    await engine.speak('Anything.');
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.event, line.decision, line.reason, line.actor])).toEqual([
      ['content_filtered', 'deny', 'blocked', 'agent:writer'],
      ['content_filtered', 'replace', 'replaced by the content filter', 'agent:writer'],
    ]);
    expect(readFileSync(path, 'utf8')).not.toContain('No way');
  });

  it('the option must be a function', () => {
    expect(() => new VoiceEngine({ contentFilter: 'strict' as never })).toThrow(InputError);
  });

  it('a live piece is judged on the words as spoken too: a transformText plugin cannot turn an allowed piece into a denied word', async () => {
    const judged: Array<[string, string]> = [];
    const { backend, engine } = setup((text, context) => {
      judged.push([text, context.spokenText]);
      return /password/i.test(`${text} ${context.spokenText}`) ? deny('mentions a password') : allow();
    });
    await engine.loadPlugin(resolve(import.meta.dirname, '../fixtures/security/codeword-plugin.mjs'));
    // The plugin works: a whole string is judged (and denied) on what it becomes.
    expect((await rejection(engine.speak('The kitten is here.'))).code).toBe('CONTENT_FILTER_DENIED');
    const error = await rejection((async () => {
      for await (const _chunk of engine.stream(source(['First sentence here. ', 'The kitten ', 'is out. ', 'Never said.'])));
    })());
    expect(error.code).toBe('CONTENT_FILTER_DENIED');
    expect(judged.at(-1)).toEqual(['The kitten is out.', 'The password is out.']);
    expect(backend.segments.join(' ')).not.toContain('password');
  });

  it('each text passes transformText once: a plugin answering differently the second time cannot slip past the filter', async () => {
    const { backend, engine } = setup((text, context) => (/password/i.test(`${text} ${context.spokenText}`) ? deny('mentions a password') : allow()));
    await engine.loadPlugin(resolve(import.meta.dirname, '../fixtures/security/two-faced-plugin.mjs'));
    await engine.speak('The kitten is here.');
    for await (const _chunk of engine.stream(source(['First sentence here. ', 'The kitten ', 'is out. ', 'Last one.'])));
    const spoken = backend.segments.join(' ');
    expect(spoken).toContain('kitten is here');
    expect(spoken).toContain('kitten is out');
    expect(spoken).not.toContain('password');
  });

  it("a recompile at an accessibility override's rate reuses the text the filter judged: transformText is not asked again", async () => {
    const { backend, registrar, engine } = setup((text, context) => (/password/i.test(`${text} ${context.spokenText}`) ? deny('mentions a password') : allow()));
    await engine.loadPlugin(resolve(import.meta.dirname, '../fixtures/security/two-faced-plugin.mjs'));
    registrar.registerActor('user:alice', { sessions: ['den'] });
    expect(registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den', speechRate: 0.8 } }).allowed).toBe(true);
    const result = await engine.speak('The kitten is here.', { sessionId: 'den' });
    // The override applied (the graph was recompiled at its rate), and what was spoken is what was judged.
    expect(registrar.overrideFor(result.streamId)).toMatchObject({ speechRate: 0.8 });
    expect(backend.segments.join(' ')).toContain('kitten is here');
    expect(backend.segments.join(' ')).not.toContain('password');
  });

  it('spokenText is what a backend reads: invisible characters (soft hyphen, zero-width) removed and NFKC-folded, so "pass\u00ADword" cannot slip past', async () => {
    const { backend, engine } = setup((_text, context) => (/password/i.test(context.spokenText) ? deny('mentions a password') : allow()));
    // espeak-ng reads "pass\u00ADword" as "password"; a fullwidth word folds to its letters.
    for (const hidden of ['the pass\u00ADword is', 'the pass\u200Bword is', 'the pass\u2060word is', 'the \uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44 is']) {
      expect((await rejection(engine.speak(hidden))).code, JSON.stringify(hidden)).toBe('CONTENT_FILTER_DENIED');
    }
    const error = await rejection((async () => {
      for await (const _chunk of engine.stream(source(['Fine here. ', 'The pass\u00ADword ', 'is out.'])));
    })());
    expect(error.code).toBe('CONTENT_FILTER_DENIED');
    expect(backend.segments.join(' ')).not.toMatch(/pass.?word/);
    // The control: an ordinary word is allowed.
    await engine.speak('the passport is here');
    expect(backend.segments.join(' ')).toContain('passport');
  });
});
