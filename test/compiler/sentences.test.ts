import { describe, expect, it } from 'vitest';
import { SentenceStream, sentenceSpans, splitSentences } from '../../src/compiler/sentences.js';

describe('splitSentences', () => {
  it.each([
    ['plain', 'One. Two! Three?', ['One.', 'Two!', 'Three?']],
    ['title abbreviation', 'Dr. Smith arrived. He sat.', ['Dr. Smith arrived.', 'He sat.']],
    ['several titles', 'Mr. and Mrs. Jones met Prof. Lee.', ['Mr. and Mrs. Jones met Prof. Lee.']],
    ['e.g. and i.e.', 'Fruit, e.g. Apples, i.e. Red ones. Fine.', ['Fruit, e.g. Apples, i.e. Red ones.', 'Fine.']],
    ['decimal', 'Pi is 3.14 today. Yes.', ['Pi is 3.14 today.', 'Yes.']],
    ['URL', 'See example.com for more. Thanks.', ['See example.com for more.', 'Thanks.']],
    ['ellipsis then capital', 'Wait... What?', ['Wait...', 'What?']],
    ['ellipsis then lower case', 'Well... maybe not.', ['Well... maybe not.']],
    ['unicode ellipsis', 'Hmm… Yes.', ['Hmm…', 'Yes.']],
    ['closing quote', 'He said "Go home." Then he left.', ['He said "Go home."', 'Then he left.']],
    ['quoted exclamation continues', '"Stop!" she said. Then she left.', ['"Stop!" she said.', 'Then she left.']],
    ['initials', 'J. R. R. Tolkien wrote. Yes.', ['J. R. R. Tolkien wrote.', 'Yes.']],
    ['etc. before capital ends', 'Apples, pears, etc. Then plums.', ['Apples, pears, etc.', 'Then plums.']],
    ['etc. before lower case does not end', 'Apples, etc. are fruit.', ['Apples, etc. are fruit.']],
    ['No. before a number', 'Take No. 5 now. Ok.', ['Take No. 5 now.', 'Ok.']],
    ['repeated punctuation', 'Really?! Yes.', ['Really?!', 'Yes.']],
    ['sentence opening with a quote', 'Done. "Next," she said.', ['Done.', '"Next," she said.']],
    ['month abbreviation', 'On Jan. 5 we met. Good.', ['On Jan. 5 we met.', 'Good.']],
    ['blank line ends a sentence', 'Title\n\nBody text', ['Title', 'Body text']],
    ['single newline does not', 'line one\nline two', ['line one\nline two']],
    ['no terminal punctuation', 'just words', ['just words']],
    ['empty', '', []],
    ['whitespace only', '  \n ', []],
  ])('%s', (_name, text, expected) => {
    expect(splitSentences(text)).toEqual(expected);
  });

  it('cuts a long sentence at a comma, else a space, else hard', () => {
    const clauses = 'alpha beta gamma, delta epsilon zeta, eta theta iota';
    expect(splitSentences(clauses, { maxSentenceChars: 40 })).toEqual(['alpha beta gamma, delta epsilon zeta,', 'eta theta iota']);
    expect(splitSentences('aaaa bbbb cccc dddd', { maxSentenceChars: 10 })).toEqual(['aaaa bbbb', 'cccc dddd']);
    expect(splitSentences('abcdefghijkl', { maxSentenceChars: 5 })).toEqual(['abcde', 'fghij', 'kl']);
  });

  it('gives every piece of a cut sentence its whole budget, whatever whitespace precedes it', () => {
    const text = `Dr.\n${'x'.repeat(90)}`;
    expect(splitSentences(text, { maxSentenceChars: 80 }).map((sentence) => sentence.length)).toEqual([3, 80, 10]);
    const stream = new SentenceStream({ maxSentenceChars: 80 });
    const streamed = [...text].flatMap((character) => stream.push(character));
    expect([...streamed, ...stream.end()]).toEqual(splitSentences(text, { maxSentenceChars: 80 }));
  });

  it('gives trimmed spans into the original text', () => {
    const text = '  Hi there.  Bye.  ';
    expect(sentenceSpans(text)).toEqual([
      { start: 2, end: 11 },
      { start: 13, end: 17 },
    ]);
  });
});

describe('SentenceStream', () => {
  it('emits sentences once the next one has started', () => {
    const stream = new SentenceStream();
    expect(stream.push('Hello Dr')).toEqual([]);
    expect(stream.push('. Smith. How')).toEqual(['Hello Dr. Smith.']);
    expect(stream.push(' are you? Fine')).toEqual(['How are you?']);
    expect(stream.end()).toEqual(['Fine']);
    expect(stream.end()).toEqual([]);
  });

  it('does not decide an ellipsis before it sees the next word', () => {
    const stream = new SentenceStream();
    expect(stream.push('Well... ')).toEqual([]);
    expect(stream.push('maybe. Ok')).toEqual(['Well... maybe.']);
    expect(stream.end()).toEqual(['Ok']);
  });

  it('matches splitSentences for a text fed one character at a time', () => {
    const text = 'Dr. Smith paid $3.50, e.g. cash... Then "Bye!" he said. J. Doe left.\n\nNew part';
    const stream = new SentenceStream();
    const sentences = [...text].flatMap((character) => stream.push(character));
    sentences.push(...stream.end());
    expect(sentences).toEqual(splitSentences(text));
  });
});
