import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import type { SpeechGraph, SpeechNode, TextNode } from '../../src/graph/speech-graph.js';
import { inputFailure } from '../helpers/errors.js';

const ssml = (body: string, options = {}) => compile(`<speak>${body}</speak>`, { format: 'ssml', ...options });
const spoken = (graph: SpeechGraph) => graph.nodes.filter((node): node is TextNode => node.type === 'text');
const summary = (node: SpeechNode) => {
  switch (node.type) {
    case 'text':
    case 'ssml':
      return `say:${node.text}`;
    case 'silence':
      return `pause:${node.durationMs}:${node.reason}`;
    case 'audio':
      return `audio:${node.path}`;
    case 'event':
      return `mark:${node.name}`;
  }
};

const failure = inputFailure;

describe('SSML semantics', () => {
  it('turns breaks into silences: time, strength and the medium default', () => {
    const graph = ssml('A<break time="250ms"/>B<break time="1.5s"/>C<break strength="x-strong"/>D<break/>E');
    expect(graph.nodes.map(summary)).toEqual(['say:A', 'pause:250:break', 'say:B', 'pause:1500:break', 'say:C', 'pause:1000:break', 'say:D', 'pause:400:break', 'say:E']);
  });

  it('puts sentence pauses between sentences and paragraph pauses after <p>', () => {
    const graph = ssml('<p><s>One</s><s>Two</s></p><p>Three.</p>');
    expect(graph.nodes.map(summary)).toEqual(['say:One', 'pause:200:sentence', 'say:Two', 'pause:500:paragraph', 'say:Three.']);
  });

  it('lets an explicit break replace the pause between sentences', () => {
    const graph = ssml('One. <break time="700ms"/> Two.');
    expect(graph.nodes.map(summary)).toEqual(['say:One.', 'pause:700:break', 'say:Two.']);
  });

  it('combines nested prosody: rates multiply, pitch and volume add', () => {
    const [node] = spoken(ssml('<prosody rate="150%" pitch="+2st" volume="+3dB"><prosody rate="slow" pitch="-1st" volume="loud">x</prosody></prosody>'));
    expect(node?.prosody).toEqual({ rate: 1.125, pitchSemitones: 1, volumeDb: 9 });
  });

  it.each([
    ['rate="x-fast"', { rate: 1.75, pitchSemitones: 0, volumeDb: 0 }],
    ['rate="-20%"', { rate: 0.8, pitchSemitones: 0, volumeDb: 0 }],
    ['rate="1.3"', { rate: 1.3, pitchSemitones: 0, volumeDb: 0 }],
    ['pitch="x-high"', { rate: 1, pitchSemitones: 6, volumeDb: 0 }],
    ['pitch="+100%"', { rate: 1, pitchSemitones: 12, volumeDb: 0 }],
    ['volume="silent"', { rate: 1, pitchSemitones: 0, volumeDb: -96 }],
    ['volume="-6dB"', { rate: 1, pitchSemitones: 0, volumeDb: -6 }],
    ['rate="x-slow"><prosody rate="x-slow"><prosody rate="x-slow"', { rate: 0.25, pitchSemitones: 0, volumeDb: 0 }],
  ])('prosody %s', (attributes, expected) => {
    const depth = attributes.split('<prosody').length;
    const [node] = spoken(ssml(`<prosody ${attributes}>x${'</prosody>'.repeat(depth)}`));
    expect(node?.prosody).toEqual(expected);
  });

  it('maps emphasis levels to prosody and records the level', () => {
    const nodes = spoken(ssml('<emphasis level="strong">a</emphasis> <emphasis>b</emphasis> <emphasis level="reduced">c</emphasis>'));
    expect(nodes.map((node) => [node.text, node.prosody, node.annotations])).toEqual([
      ['a', { rate: 0.9, pitchSemitones: 1.5, volumeDb: 4 }, { emphasis: 'strong' }],
      ['b', { rate: 0.95, pitchSemitones: 0.75, volumeDb: 2 }, { emphasis: 'moderate' }],
      ['c', { rate: 1.05, pitchSemitones: -0.5, volumeDb: -2 }, { emphasis: 'reduced' }],
    ]);
  });

  it('reads say-as and sub, keeping the written form as sourceText', () => {
    const [node] = spoken(ssml('Code <say-as interpret-as="characters">AB1</say-as>, dial <say-as interpret-as="telephone">555-0100</say-as>, see <sub alias="World Wide Web Consortium">W3C</sub>.'));
    expect(node?.text).toBe('Code A B one, dial five five five, zero one zero zero, see World Wide Web Consortium.');
    expect(node?.sourceText).toBe('Code AB1, dial 555-0100, see W3C.');
  });

  it('sets voice and language per element', () => {
    const graph = compile('<speak xml:lang="en-GB">Hi <voice name="amy">there</voice> <p xml:lang="fr-FR">Bonjour 5</p></speak>', { voice: 'base' });
    expect(spoken(graph).map((node) => [node.text, node.voice, node.language])).toEqual([
      ['Hi', 'base', 'en-GB'],
      ['there', 'amy', 'en-GB'],
      ['Bonjour 5', 'base', 'fr-FR'],
    ]);
  });

  it('turns marks into events in place', () => {
    const graph = ssml('One <mark name="middle"/>two. <mark name="end"/>');
    expect(graph.nodes.map(summary)).toEqual(['say:One', 'mark:middle', 'say:two.', 'mark:end']);
  });

  it.each([
    ['break time', '<break time="3 seconds"/>', '<break> time="3 seconds" is not valid'],
    ['break too long', '<break time="11s"/>', 'at most 10000 ms'],
    ['break strength', '<break strength="huge"/>', '<break> strength="huge" is not valid'],
    ['prosody rate', '<prosody rate="warp">x</prosody>', '<prosody> rate="warp" is not valid'],
    ['prosody pitch in Hz', '<prosody pitch="+50Hz">x</prosody>', '<prosody> pitch="+50Hz" is not valid'],
    ['prosody volume', '<prosody volume="11">x</prosody>', '<prosody> volume="11" is not valid'],
    ['emphasis level', '<emphasis level="max">x</emphasis>', '<emphasis> level="max" is not valid'],
    ['say-as kind', '<say-as interpret-as="emoji">x</say-as>', 'interpret-as="emoji" is not supported'],
    ['say-as unreadable', '<say-as interpret-as="ordinal">first</say-as>', 'cannot read "first"'],
    ['say-as without kind', '<say-as>x</say-as>', '<say-as> needs a non-empty interpret-as attribute'],
    ['sub without alias', '<sub>x</sub>', '<sub> needs a non-empty alias attribute'],
    ['mark without name', '<mark/>', '<mark> needs a non-empty name attribute'],
    ['voice without name', '<voice>x</voice>', '<voice> needs a name or xml:lang attribute'],
    ['language tag', '<p xml:lang="english!">x</p>', 'xml:lang="english!" is not valid'],
  ])('rejects a bad value: %s (SSML_INVALID at the element)', (_name, body, message) => {
    const error = failure(() => ssml(body));
    expect(error.code).toBe('SSML_INVALID');
    expect(error.message).toContain('input 1:8: ');
    expect(error.message).toContain(message);
  });

  it('ignores bad values in lenient mode', () => {
    const graph = ssml('<prosody rate="warp">a</prosody><break time="soon"/><say-as interpret-as="emoji">b</say-as>', { lenient: true });
    expect(graph.nodes.map(summary)).toEqual(['say:a', 'pause:400:break', 'say:b']);
    expect(spoken(graph)[0]?.prosody.rate).toBe(1);
  });
});

describe('SSML audio', () => {
  const root = mkdtempSync(join(tmpdir(), 'vsb-audio-'));
  const clip = join(root, 'chime.wav');
  writeFileSync(clip, 'RIFF');

  it('is refused unless allowAudio is set, with the position', () => {
    const error = failure(() => ssml(`Hi <audio src="${clip}">chime</audio>`));
    expect(error.code).toBe('SSML_AUDIO_FORBIDDEN');
    expect(error.message).toBe('input 1:11: <audio> is not allowed: pass allowAudio: true to play local files');
  });

  it('plays absolute paths and file: URLs, with normalised fallback text', () => {
    const graph = ssml(`<audio src="${clip}">2 chimes</audio><audio src="${pathToFileURL(clip).href}"/>`, { allowAudio: true });
    expect(graph.nodes).toMatchObject([
      { type: 'audio', path: clip, fallbackText: 'two chimes' },
      { type: 'audio', path: clip, fallbackText: '' },
    ]);
  });

  it('resolves relative paths against audioRoot and keeps them inside it', () => {
    expect(ssml('<audio src="chime.wav"/>', { allowAudio: true, audioRoot: root }).nodes[0]).toMatchObject({ type: 'audio', path: clip });
    const outside = failure(() => ssml('<audio src="../etc/passwd"/>', { allowAudio: true, audioRoot: root }));
    expect(outside.code).toBe('SSML_AUDIO_FORBIDDEN');
    expect(outside.message).toContain('is outside audioRoot');
  });

  it.each([
    ['remote URL', 'https://example.com/a.wav', 'is not a local file'],
    ['data URL', 'data:audio/wav;base64,AAAA', 'is not a local file'],
    ['relative without audioRoot', 'chime.wav', 'is relative: give an absolute path or set audioRoot'],
  ])('refuses a %s', (_name, source, message) => {
    const error = failure(() => ssml(`<audio src="${source}"/>`, { allowAudio: true }));
    expect(error.code).toBe('SSML_AUDIO_FORBIDDEN');
    expect(error.message).toContain(message);
  });

  it('speaks the fallback content in lenient mode when audio is not allowed', () => {
    const graph = ssml(`<audio src="${clip}">a chime</audio>`, { lenient: true });
    expect(graph.nodes.map(summary)).toEqual(['say:a chime']);
  });
});
