import { describe, expect, it } from 'vitest';
import { ESTIMATED_CHARACTERS_PER_SECOND, estimateSpeechMs, layOutTimeline, withMeasuredDurations, type UntimedNode } from '../../src/graph/graph-timing.js';
import { parseSpeechGraph } from '../../src/graph/speech-graph-schema.js';
import { SPEECH_GRAPH_VERSION, deepFreeze, type SpeechGraph } from '../../src/graph/speech-graph.js';
import { inputFailure } from '../helpers/errors.js';

const prosody = { rate: 1, pitchSemitones: 0, volumeDb: 0 };
const timing = (startMs: number, durationMs: number) => ({ startMs, durationMs, source: 'estimated' as const });

/** A graph from outside, as JSON would bring it: two tracks, every node type. */
function externalGraph(): Record<string, unknown> {
  return {
    version: SPEECH_GRAPH_VERSION,
    language: 'en-US',
    durationMs: 1500,
    annotations: { scene: 'intro' },
    nodes: [
      { id: 'a', type: 'text', track: 'main', timing: timing(0, 1000), annotations: { pan: -0.5 }, text: 'Hello there.', sourceText: 'Hello there.', sentenceIndex: 0, language: 'en-US', prosody, voice: 'v1' },
      { id: 'b', type: 'silence', track: 'main', timing: timing(1000, 200), annotations: {}, durationMs: 200, reason: 'sentence' },
      { id: 'c', type: 'ssml', track: 'main', timing: timing(1200, 300), annotations: {}, text: 'Hi.', sourceText: 'Hi.', sentenceIndex: 1, language: 'en-US', prosody, ssml: '<speak>Hi.</speak>', emotion: 'joy' },
      { id: 'd', type: 'audio', track: 'music', timing: timing(0, 0), annotations: { gainDb: -6 }, path: '/clips/bed.wav', fallbackText: '' },
      { id: 'e', type: 'event', track: 'main', timing: timing(1500, 0), annotations: {}, name: 'done' },
    ],
  };
}

const failure = inputFailure;

describe('deepFreeze', () => {
  it('freezes every level, handles cycles and leaves typed arrays alone', () => {
    const shared = { deep: { value: 1 } };
    const value: Record<string, unknown> = { list: [shared, Object.freeze({ inner: { x: 1 } })], samples: new Float32Array(2) };
    value.self = value;
    deepFreeze(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(shared.deep)).toBe(true);
    expect(Object.isFrozen((value.list as { inner?: object }[])[1]?.inner)).toBe(true);
    expect(Object.isFrozen(value.samples)).toBe(false);
  });
});

describe('parseSpeechGraph', () => {
  it('accepts a valid graph with several tracks and returns a frozen copy', () => {
    const input = externalGraph();
    const graph = parseSpeechGraph(input);
    expect(graph).toEqual(input);
    expect(graph).not.toBe(input);
    expect(Object.isFrozen(graph.nodes[3])).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it.each([
    ['wrong version', (graph: Record<string, any>) => (graph.version = '2.0.0'), 'graph.version'],
    ['unknown node type', (graph: Record<string, any>) => (graph.nodes[1].type = 'video'), 'graph.nodes.1.type'],
    ['negative silence', (graph: Record<string, any>) => (graph.nodes[1].durationMs = -1), 'graph.nodes.1.durationMs'],
    ['silence over an hour', (graph: Record<string, any>) => (graph.nodes[1].durationMs = 3_600_001), 'graph.nodes.1.durationMs'],
    ['relative audio path', (graph: Record<string, any>) => (graph.nodes[3].path = 'bed.wav'), 'graph.nodes.3.path'],
    ['rate out of range', (graph: Record<string, any>) => (graph.nodes[0].prosody = { ...prosody, rate: 10 }), 'graph.nodes.0.prosody.rate'],
    ['extra field', (graph: Record<string, any>) => (graph.nodes[4].extra = true), 'graph.nodes.4'],
    ['non-JSON annotation', (graph: Record<string, any>) => (graph.nodes[0].annotations = { when: new Date(0) }), 'graph.nodes.0.annotations.when'],
    ['missing timing', (graph: Record<string, any>) => delete graph.nodes[2].timing, 'graph.nodes.2.timing'],
  ])('rejects %s, naming the field', (_name, mutate, field) => {
    const graph = externalGraph();
    mutate(graph as Record<string, any>);
    const error = failure(() => parseSpeechGraph(graph));
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('rejects duplicate node ids', () => {
    const graph = externalGraph();
    (graph.nodes as { id: string }[])[2]!.id = 'a';
    const error = failure(() => parseSpeechGraph(graph));
    expect(error.code).toBe('GRAPH_INVALID');
    expect(error.message).toBe('graph.nodes.2.id: duplicate node id "a"');
  });
});

describe('timings', () => {
  it('estimates speech from characters and rate', () => {
    expect(estimateSpeechMs('', 1)).toBe(0);
    expect(estimateSpeechMs('a'.repeat(ESTIMATED_CHARACTERS_PER_SECOND), 1)).toBe(1000);
    expect(estimateSpeechMs('a'.repeat(ESTIMATED_CHARACTERS_PER_SECOND), 2)).toBe(500);
    expect(estimateSpeechMs('  a   b  ', 1)).toBe(estimateSpeechMs('a b', 1));
  });

  it('lays tracks out independently', () => {
    const nodes: UntimedNode[] = [
      { id: 'x', type: 'silence', track: 'main', annotations: {}, durationMs: 100, reason: 'break' },
      { id: 'y', type: 'silence', track: 'fx', annotations: {}, durationMs: 50, reason: 'break' },
      { id: 'z', type: 'silence', track: 'main', annotations: {}, durationMs: 100, reason: 'break' },
    ];
    const { nodes: timed, durationMs } = layOutTimeline(nodes, (node) => ({ durationMs: node.type === 'silence' ? node.durationMs : 0, source: 'estimated' }));
    expect(timed.map((node) => node.timing.startMs)).toEqual([0, 0, 100]);
    expect(durationMs).toBe(200);
  });

  it('fills in measured durations as a new graph and shifts later starts on the same track', () => {
    const graph = parseSpeechGraph(externalGraph());
    const measured = withMeasuredDurations(graph, new Map([['a', 1200], ['d', 5000], ['nope', 1], ['c', Number.NaN]]));
    expect(measured.nodes.map((node) => [node.id, node.timing])).toEqual([
      ['a', { startMs: 0, durationMs: 1200, source: 'measured' }],
      ['b', { startMs: 1200, durationMs: 200, source: 'estimated' }],
      ['c', { startMs: 1400, durationMs: 300, source: 'estimated' }],
      ['d', { startMs: 0, durationMs: 5000, source: 'measured' }],
      ['e', { startMs: 1700, durationMs: 0, source: 'estimated' }],
    ]);
    expect(measured.durationMs).toBe(5000);
    expect(Object.isFrozen(measured.nodes[0]?.timing)).toBe(true);
    expect(graph.nodes[0]?.timing.durationMs).toBe(1000);
    const again: SpeechGraph = parseSpeechGraph(JSON.parse(JSON.stringify(measured)));
    expect(again).toEqual(measured);
  });
});
