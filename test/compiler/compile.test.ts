import { describe, expect, it } from 'vitest';
import { compile, looksLikeSsml } from '../../src/compiler/compile.js';
import { planSynthesis, type SpeechStep } from '../../src/compiler/plan.js';
import { parseSpeechGraph } from '../../src/graph/speech-graph-schema.js';
import { SPEECH_GRAPH_VERSION, type SsmlNode } from '../../src/graph/speech-graph.js';
import { inputFailure } from '../helpers/errors.js';

const failure = inputFailure;

describe('compile', () => {
  it('produces a versioned, deep-frozen graph that passes its own schema', () => {
    const graph = compile('Hello Dr. Smith. It is 5 past 3.');
    expect(graph.version).toBe(SPEECH_GRAPH_VERSION);
    expect(Object.isFrozen(graph)).toBe(true);
    expect(Object.isFrozen(graph.nodes)).toBe(true);
    expect(Object.isFrozen(graph.nodes[0])).toBe(true);
    expect(Object.isFrozen((graph.nodes[0] as { prosody: object }).prosody)).toBe(true);
    expect(() => (graph.nodes as unknown[]).push(1)).toThrow(TypeError);
    expect(parseSpeechGraph(JSON.parse(JSON.stringify(graph)))).toEqual(graph);
  });

  it('makes one node per sentence, with estimated timings laid end to end', () => {
    const graph = compile('First sentence here. Second one!');
    expect(graph.nodes.map((node) => node.type)).toEqual(['text', 'silence', 'text']);
    const [first, pause, second] = graph.nodes;
    expect(first?.timing).toEqual({ startMs: 0, durationMs: 1333, source: 'estimated' });
    expect(pause?.timing).toEqual({ startMs: 1333, durationMs: 200, source: 'estimated' });
    expect(second?.timing.startMs).toBe(1533);
    expect(graph.durationMs).toBe(1533 + (second?.timing.durationMs ?? 0));
  });

  it('detects SSML in auto mode and reads everything else as markup', () => {
    expect(looksLikeSsml('  <speak>x</speak>')).toBe(true);
    expect(looksLikeSsml('<?xml version="1.0"?><speak/>')).toBe(true);
    expect(looksLikeSsml('<speaker> is a word')).toBe(false);
    expect(looksLikeSsml('say <speak>')).toBe(false);
    expect(compile('<speak>a<break time="1s"/>b</speak>').annotations).toEqual({ format: 'ssml', languageSource: 'default' });
    expect(compile('a [pause 1s] b').nodes.map((node) => node.type)).toEqual(['text', 'silence', 'text']);
    expect(compile('a [pause 1s] b', { language: 'en-US' }).annotations).toEqual({ format: 'markup' });
  });

  it('records preset and emotion on the graph', () => {
    expect(compile('x', { preset: 'narrator', emotion: 'calm' }).annotations).toEqual({ format: 'markup', languageSource: 'default', preset: 'narrator', emotion: 'calm' });
  });

  it('emits ssml nodes with a canonical document when asked', () => {
    const graph = compile('Tom & Jerry <3', { emitSsml: true, rate: 1.2, language: 'en-GB' });
    const node = graph.nodes[0] as SsmlNode;
    expect(node.type).toBe('ssml');
    expect(node.text).toBe('Tom and Jerry <three');
    expect(node.ssml).toBe('<speak version="1.1" xml:lang="en-GB"><prosody rate="120%" pitch="+0st" volume="+0dB">Tom and Jerry &lt;three</prosody></speak>');
    const [step] = planSynthesis(graph);
    expect(step).toMatchObject({ kind: 'speech', segment: { text: 'Tom and Jerry <three', ssml: node.ssml } });
  });

  it('fixedRate is the rate of every node, whatever the rate option, preset, emotion, SSML prosody or markup ask', () => {
    const rates = (input: string, options: Parameters<typeof compile>[1]) =>
      compile(input, options).nodes.flatMap((node) => ('prosody' in node && node.prosody ? [node.prosody.rate] : []));
    const ssml = '<speak>Slow <prosody rate="400%">very fast</prosody> and <prosody rate="x-slow">slow</prosody>.</speak>';
    const markup = 'Plain, then *stressed* words.';
    for (const [input, options] of [
      [ssml, { rate: 4 }],
      [ssml, { preset: 'announcer', emotion: 'excited' }],
      [markup, { rate: 0.25, emitSsml: true }],
    ] as const) {
      expect(rates(input, options).some((rate) => rate !== 0.6)).toBe(true); // the plain compile varies the rate
      const fixed = rates(input, { ...options, fixedRate: 0.6 });
      expect(fixed.length).toBeGreaterThan(0);
      expect(fixed.every((rate) => rate === 0.6)).toBe(true);
    }
    // The SSML a backend is sent says the same rate.
    const node = compile(ssml, { emitSsml: true, rate: 4, fixedRate: 0.6 }).nodes[0] as SsmlNode;
    expect(node.ssml).toContain('rate="60%"');
  });

  it('gives an empty graph for empty or blank input', () => {
    expect(compile('').nodes).toEqual([]);
    expect(compile(' \n\n ').durationMs).toBe(0);
    expect(compile('<speak></speak>').nodes).toEqual([]);
  });

  it('is deterministic', () => {
    const input = '<speak>Hi <prosody rate="fast">there</prosody>, it is 3:30 pm on 2024-03-15.</speak>';
    expect(JSON.stringify(compile(input, { preset: 'announcer' }))).toBe(JSON.stringify(compile(input, { preset: 'announcer' })));
  });

  it.each([
    ['unknown option', { speed: 2 }, 'options: Unrecognized key: "speed"', 'options'],
    ['bad format', { format: 'html' }, 'options.format', 'options.format'],
    ['bad emotion', { emotion: 'glee' }, 'options.emotion', 'options.emotion'],
    ['bad preset', { preset: 'robot' }, 'options.preset', 'options.preset'],
    ['rate too high', { rate: 9 }, 'options.rate', 'options.rate'],
    ['fixedRate too low', { fixedRate: 0.1 }, 'options.fixedRate', 'options.fixedRate'],
    ['bad language', { language: 'english' }, 'expected a BCP-47 language tag such as en-US (received "english")', 'options.language'],
    ['relative audioRoot', { audioRoot: 'clips' }, 'expected an absolute directory path', 'options.audioRoot'],
    ['maxDepth zero', { maxDepth: 0 }, 'options.maxDepth', 'options.maxDepth'],
  ])('rejects options: %s', (_name, options, message, field) => {
    const error = failure(() => compile('x', options as never));
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toContain(message);
    expect(error.field).toBe(field);
  });

  it('rejects input that is not a string', () => {
    const error = failure(() => compile(42 as never));
    expect(error.field).toBe('input');
    expect(error.message).toContain('received 42');
  });

  it('rejects input longer than maxInputChars in every format', () => {
    for (const format of ['text', 'markup', 'ssml', 'auto'] as const) {
      const error = failure(() => compile('<speak>hello</speak>', { format, maxInputChars: 10 }));
      expect(error.code).toBe('INPUT_TOO_LARGE');
      expect(error.message).toBe('input: 20 characters is more than maxInputChars (10)');
    }
  });

  it('passes maxDepth and lenient to the SSML parser', () => {
    expect(failure(() => compile('<speak><p><s>x</s></p></speak>', { maxDepth: 2 })).code).toBe('SSML_TOO_DEEP');
    expect(compile('<speak>a <b>c</b></speak>', { lenient: true }).nodes.map((node) => (node.type === 'text' ? node.text : node.type))).toEqual(['a c']);
  });

  it('cuts run-on sentences at maxSentenceChars', () => {
    const words = Array.from({ length: 60 }, (_, index) => `word${'x'.repeat(index % 5)}`).join(' ');
    const graph = compile(words, { maxSentenceChars: 100 });
    const texts = graph.nodes.filter((node) => node.type === 'text');
    expect(texts.length).toBeGreaterThan(3);
    for (const node of texts) expect(node.sourceText.length).toBeLessThanOrEqual(100);
  });
});

describe('planSynthesis', () => {
  it('walks the graph in order into speech, silence, audio and mark steps', () => {
    const graph = compile('<speak><voice name="v1">Hello.</voice> <mark name="m"/><break time="250ms"/><audio src="/tmp/x.wav">clip</audio> Bye 2 you.</speak>', { allowAudio: true, preset: 'whisper' });
    const steps = planSynthesis(graph);
    expect(steps).toEqual([
      { kind: 'speech', nodeId: 'n0', sentenceIndex: 0, segment: { text: 'Hello.', voice: 'v1', language: 'en-US', languageIsDefault: true, prosody: { rate: 0.9, pitchSemitones: -2, volumeDb: -12 }, nodeId: 'n0' } },
      { kind: 'mark', nodeId: 'n1', name: 'm' },
      { kind: 'silence', nodeId: 'n2', durationMs: 250 },
      { kind: 'audio', nodeId: 'n3', path: '/tmp/x.wav', fallbackText: 'clip' },
      { kind: 'speech', nodeId: 'n4', sentenceIndex: 1, segment: { text: 'Bye two you.', language: 'en-US', languageIsDefault: true, prosody: { rate: 0.9, pitchSemitones: -2, volumeDb: -12 }, nodeId: 'n4' } },
    ]);
    const first = steps[0] as SpeechStep;
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.segment.prosody)).toBe(true);
  });

  it('marks a segment whose language is the default nobody asked for (a backend may use its voice\'s own)', () => {
    const languages = (graph: ReturnType<typeof compile>) =>
      planSynthesis(graph).flatMap((step) => (step.kind === 'speech' ? [[step.segment.language, step.segment.languageIsDefault ?? false]] : []));
    expect(languages(compile('Hello.'))).toEqual([['en-US', true]]);
    // Asked for, even when equal to the default: not marked.
    expect(languages(compile('Hello.', { language: 'en-US' }))).toEqual([['en-US', false]]);
    expect(languages(compile('Bonjour.', { language: 'fr-FR' }))).toEqual([['fr-FR', false]]);
    // An xml:lang that changes the language is asked for; the text around it keeps the default mark.
    expect(languages(compile('<speak>Hi. <s xml:lang="fr-FR">Salut.</s></speak>'))).toEqual([
      ['en-US', true],
      ['fr-FR', false],
    ]);
  });

  it('plays only the requested track', () => {
    const graph = compile('One. Two.');
    expect(planSynthesis(graph, { track: 'music' })).toEqual([]);
    expect(planSynthesis(graph).length).toBe(3);
  });
});
