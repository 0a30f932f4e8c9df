import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../src/compiler/sentences.js';
import { AudioError, InputError } from '../../src/errors.js';
import { cutTextSource, isAsyncIterable, TextCutter, textStreamOptionsSchema } from '../../src/streaming/text-source.js';
import { inputFailure, rejection } from '../helpers/errors.js';
import { recordingSource, tokenize } from '../helpers/text-source.js';

/** Options that never cut early: pieces are exactly the compiler's sentences. */
const SENTENCES_ONLY = textStreamOptionsSchema.parse({ minChars: 100_000, maxWaitMs: 60_000 });

function cutAll(deltas: readonly string[], options = SENTENCES_ONLY): { pieces: string[]; cutAfter: number[] } {
  const cutter = new TextCutter(options);
  const pieces: string[] = [];
  const cutAfter: number[] = [];
  deltas.forEach((delta, index) => {
    for (const piece of cutter.push(delta, 0)) {
      pieces.push(piece);
      cutAfter.push(index);
    }
  });
  for (const piece of cutter.end()) {
    pieces.push(piece);
    cutAfter.push(deltas.length);
  }
  return { pieces, cutAfter };
}

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const piece of pieces) all.push(piece);
  return all;
}

describe('TextCutter', () => {
  it('cuts a sentence as soon as the next word proves it complete, the rest when the source ends', () => {
    const deltas = tokenize('Hello there. How are you? Fine.');
    const { pieces, cutAfter } = cutAll(deltas);
    expect(pieces).toEqual(['Hello there.', 'How are you?', 'Fine.']);
    // "Hello there." is cut when " How" (delta 2) arrives, "How are you?" when " Fine." (delta 5) does.
    expect(cutAfter).toEqual([2, 5, deltas.length]);
  });

  it('never cuts after an abbreviation, inside a decimal or after an initial', () => {
    const text = 'Dr. Smith paid 3.50 dollars to J. R. Tolkien, e.g. for a book. Then he left.';
    const { pieces } = cutAll([...text]);
    expect(pieces).toEqual(['Dr. Smith paid 3.50 dollars to J. R. Tolkien, e.g. for a book.', 'Then he left.']);
  });

  it('feeding the text in any pieces gives the compiler’s sentences of the whole text', () => {
    const sentence = fc.constantFrom('Dr. Who met Mr. Smith.', 'It costs 3.5 euros!', 'Why?', 'Well, yes… Maybe.', 'See fig. 3 here.', 'The U.S. Army won.');
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }), (sentences, sizes) => {
        const text = sentences.join(' ');
        const deltas: string[] = [];
        for (let at = 0, turn = 0; at < text.length; turn += 1) {
          const size = sizes[turn % sizes.length] ?? 1;
          deltas.push(text.slice(at, at + size));
          at += size;
        }
        expect(cutAll(deltas).pieces).toEqual(splitSentences(text));
      }),
      { numRuns: 200 },
    );
  });

  it('cuts the first piece early at a clause boundary with minChars before it, later ones only at sentence ends', () => {
    const options = textStreamOptionsSchema.parse({ minChars: 20, maxWaitMs: 60_000 });
    const { pieces } = cutAll(tokenize('Well, as I was saying yesterday, the weather is fine, and the sea is calm. It stays so, they say, all week.'), options);
    expect(pieces[0]).toBe('Well, as I was saying yesterday,');
    expect(pieces.slice(1)).toEqual(['the weather is fine, and the sea is calm.', 'It stays so, they say, all week.']);
  });

  it('after maxWaitMs: the first piece at a clause boundary, a later one only at a probable sentence end', () => {
    const cutter = new TextCutter(textStreamOptionsSchema.parse({ minChars: 1000, maxWaitMs: 100 }));
    expect(cutter.push('Sure, let me', 0)).toEqual([]);
    expect(cutter.deadlineMs).toBe(100);
    expect(cutter.timedCut(99)).toBeUndefined();
    expect(cutter.timedCut(100)).toBe('Sure,');
    expect(cutter.push(' check that for you.', 150)).toEqual([]);
    expect(cutter.timedCut(250)).toBe('let me check that for you.');
    // A later piece is not cut at a comma, and not after an abbreviation, however long it waits.
    expect(cutter.push(' Well, I asked Dr.', 300)).toEqual([]);
    expect(cutter.timedCut(10_000)).toBeUndefined();
    // No retry until more text arrives (no busy loop on a stalled source).
    expect(cutter.deadlineMs).toBeNull();
    expect(cutter.push(' Who.', 10_001)).toEqual([]);
    expect(cutter.timedCut(10_101)).toBe('Well, I asked Dr. Who.');
  });

  it('bounds the pending text: a delta past maxPendingChars is an InputError naming the option', () => {
    const cutter = new TextCutter(textStreamOptionsSchema.parse({ maxPendingChars: 100 }));
    expect(cutter.push('x'.repeat(90), 0)).toEqual([]);
    const error = inputFailure(() => cutter.push('y'.repeat(11), 0));
    expect(error.field).toBe('textStream.maxPendingChars');
    expect(error.code).toBe('TEXT_STREAM_LIMIT');
    expect(error.message).toContain('limit 100');
  });

  it('rejects bad textStream options naming the field', () => {
    expect(textStreamOptionsSchema.safeParse({ minChars: 0 }).success).toBe(false);
    expect(textStreamOptionsSchema.safeParse({ maxWaitMs: -1 }).success).toBe(false);
    expect(textStreamOptionsSchema.safeParse({ other: 1 }).success).toBe(false);
  });
});

describe('cutTextSource', () => {
  it('yields the pieces of a token stream and leaves a source that ended alone', async () => {
    const { source, record } = recordingSource(tokenize('One two. Three four! Five.'));
    const pieces = await collect(cutTextSource(source, SENTENCES_ONLY, new AbortController().signal));
    expect(pieces).toEqual(['One two.', 'Three four!', 'Five.']);
    expect(record).toEqual({ pulled: 5, closedEarly: false, ended: true });
  });

  it('a consumer that stops early closes the source', async () => {
    const { source, record } = recordingSource(tokenize('One two. Three four! Five six seven.'));
    for await (const piece of cutTextSource(source, SENTENCES_ONLY, new AbortController().signal)) {
      expect(piece).toBe('One two.');
      break;
    }
    expect(record.closedEarly).toBe(true);
    expect(record.pulled).toBe(3);
  });

  it('an abort while the source stalls rejects with the reason and closes the source', async () => {
    const { source, record } = recordingSource(tokenize('Still thinking'), { stall: true });
    const controller = new AbortController();
    const pieces = cutTextSource(source, SENTENCES_ONLY, controller.signal);
    const next = pieces.next();
    const reason = new Error('interrupted');
    controller.abort(reason);
    expect(await rejection(next)).toBe(reason);
    expect(record.closedEarly).toBe(true);
  });

  it('negative: the record catches a consumer that never closes a stalled source', async () => {
    const { source, record } = recordingSource(['Half a sentence'], { stall: true });
    const iterator = source[Symbol.asyncIterator]();
    await iterator.next();
    void iterator.next();
    expect(record.closedEarly).toBe(false);
  });

  it('a stalled source still gets its complete sentence spoken after maxWaitMs', async () => {
    const { source, record } = recordingSource(tokenize('The answer is ready.'), { stall: true });
    const controller = new AbortController();
    const pieces = cutTextSource(source, textStreamOptionsSchema.parse({ maxWaitMs: 0 }), controller.signal);
    expect((await pieces.next()).value).toBe('The answer is ready.');
    controller.abort();
    await rejection(pieces.next());
    expect(record.closedEarly).toBe(true);
  });

  it('a delta that is not a string is an InputError naming its index; a failing source an AudioError', async () => {
    const bad = recordingSource(['fine', 42]);
    const error = await rejection(collect(cutTextSource(bad.source, SENTENCES_ONLY, new AbortController().signal)));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('text[1]');
    expect(bad.record.closedEarly).toBe(true);
    const failing = recordingSource(['Hello.'], { failWith: new Error('socket reset') });
    const failure = await rejection(collect(cutTextSource(failing.source, SENTENCES_ONLY, new AbortController().signal)));
    expect(failure).toBeInstanceOf(AudioError);
    expect(failure.code).toBe('TEXT_SOURCE_FAILED');
    expect(failure.message).toContain('socket reset');
  });

  it('isAsyncIterable tells sources from other values', () => {
    expect(isAsyncIterable(recordingSource([]).source)).toBe(true);
    expect(isAsyncIterable(['a'])).toBe(false);
    expect(isAsyncIterable('text')).toBe(false);
    expect(isAsyncIterable(null)).toBe(false);
  });
});
