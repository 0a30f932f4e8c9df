import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import type { SpeechGraph, SpeechNode } from '../../src/graph/speech-graph.js';
import { inputFailure } from '../helpers/errors.js';

const markup = (input: string, options = {}) => compile(input, { format: 'markup', ...options });
const summary = (node: SpeechNode) => {
  if (node.type === 'text') return `say:${node.text}${node.emotion ? `{${node.emotion}}` : ''}${node.annotations.emphasis ? `*${String(node.annotations.emphasis)}` : ''}`;
  if (node.type === 'silence') return `pause:${node.durationMs}:${node.reason}`;
  return node.type;
};
const summarise = (graph: SpeechGraph) => graph.nodes.map(summary);

const failure = inputFailure;

describe('light markup', () => {
  it.each([
    ['pause with ms', 'Wait [pause 300ms] now', ['say:Wait', 'pause:300:break', 'say:now']],
    ['pause with seconds', 'Wait [pause 1.5s] now', ['say:Wait', 'pause:1500:break', 'say:now']],
    ['default pause', 'Wait [PAUSE] now', ['say:Wait', 'pause:500:break', 'say:now']],
    ['emotion span', 'I am {joy}so glad{/joy} today', ['say:I am', 'say:so glad{joy}', 'say:today']],
    ['nested emotion spans: the inner one wins', '{calm}a {anger}b{/anger} c{/calm}', ['say:a{calm}', 'say:b{anger}', 'say:c{calm}']],
    ['emphasis', 'a *big* deal', ['say:a', 'say:big*moderate', 'say:deal']],
    ['strong emphasis', 'a **huge** deal', ['say:a', 'say:huge*strong', 'say:deal']],
    ['lone asterisk is text', '5 * 3 is 15', ['say:five * three is fifteen']],
    ['unclosed asterisk is text', 'a *b c', ['say:a *b c']],
    ['ordinary brackets are text', 'see [note] here', ['say:see [note] here']],
    ['ordinary braces are text', 'the set {1, 2}', ['say:the set {one, two}']],
    ['escapes', String.raw`\*not\* \[pause\] \{joy\}`, ['say:*not* [pause] {joy}']],
    ['blank line is a paragraph', 'One.\n\nTwo.', ['say:One.', 'pause:500:paragraph', 'say:Two.']],
    ['punctuation after a span joins it', '{joy}Yes{/joy}!', ['say:Yes!{joy}']],
  ])('%s', (_name, input, expected) => {
    expect(summarise(markup(input))).toEqual(expected);
  });

  it.each([
    ['malformed pause', 'a [pause soon] b', '1:3', 'malformed pause: expected [pause], [pause 300ms] or [pause 1.5s] (at most 10000 ms)'],
    ['pause too long', '[pause 20s]', '1:1', 'malformed pause: expected [pause], [pause 300ms] or [pause 1.5s] (at most 10000 ms)'],
    ['unknown emotion', 'x\n {glee}y{/glee}', '2:2', 'unknown emotion {glee} (expected one of neutral, joy, sadness, anger, fear, surprise, calm, excited)'],
    ['unclosed span', 'a {joy}b', '1:3', '{joy} is never closed (expected {/joy})'],
    ['mismatched close', '{joy}a{/calm}', '1:7', '{/calm} does not match the open {joy}'],
    ['close without open', 'a{/joy}', '1:2', '{/joy} closes nothing'],
  ])('%s is MARKUP_INVALID with the position', (_name, input, position, message) => {
    const error = failure(() => markup(input));
    expect(error.code).toBe('MARKUP_INVALID');
    expect(error.message).toBe(`input ${position}: ${message}`);
    expect(error.field).toBe(`input:${position}`);
  });

  it('reads malformed markup as text in lenient mode', () => {
    expect(summarise(markup('a [pause soon] {glee}b{/calm} {joy}c', { lenient: true }))).toEqual(['say:a [pause soon] {glee}b{/calm}', 'say:c{joy}']);
  });

  it('treats markup as plain text with format "text"', () => {
    expect(summarise(compile('a *b* [pause] {joy}c{/joy}', { format: 'text' }))).toEqual(['say:a *b* [pause] {joy}c{/joy}']);
  });
});
