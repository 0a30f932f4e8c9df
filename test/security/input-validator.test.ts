import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { InputValidator } from '../../src/security/input-validator.js';

function refusal(validator: InputValidator, text: unknown): InputError {
  try {
    validator.validate(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error(`accepted ${JSON.stringify(text)}`);
}

describe('InputValidator', () => {
  it('accepts plain text as text', () => {
    expect(new InputValidator().validate('Hello, world. 3 < 4 is true.')).toEqual({ text: 'Hello, world. 3 < 4 is true.', format: 'text' });
  });

  it('refuses text longer than maxLength, naming the limit', () => {
    const error = refusal(new InputValidator({ maxLength: 5 }), 'abcdef');
    expect(error.code).toBe('INPUT_TOO_LARGE');
    expect(error.message).toContain('maxLength (5)');
  });

  it('refuses non-strings and bad options with the field named', () => {
    expect(refusal(new InputValidator(), 42).message).toBe('text: expected a string (received number)');
    expect(() => new InputValidator({ maxLength: 0 })).toThrow(/inputValidator\.maxLength/);
    expect(() => new InputValidator({ allowSSML: true } as never)).toThrow(InputError);
  });

  it('refuses hidden characters with their code point and position', () => {
    const validator = new InputValidator();
    expect(refusal(validator, 'pay \u202Eevil').message).toBe('text 1:5: character U+202E (a control, bidi control, invisible character or lone surrogate) is not allowed');
    expect(refusal(validator, 'a\uD800b').message).toContain('U+D800');
    expect(refusal(validator, 'x\u0007').message).toContain('U+0007');
    expect(validator.validate('emoji \u{1F600} ok').text).toBe('emoji \u{1F600} ok');
  });

  it('refuses SSML unless allowSsml, and then lets the strict parser judge it', () => {
    expect(refusal(new InputValidator(), '<speak>hi</speak>').message).toContain('SSML is not allowed here (allowSsml is false)');
    const allowing = new InputValidator({ allowSsml: true });
    expect(allowing.validate('<speak>hi <break time="1s"/></speak>')).toEqual({ text: '<speak>hi <break time="1s"/></speak>', format: 'ssml' });
    expect(refusal(allowing, '<speak><break time="999999s"/></speak>').code).toBe('SSML_INVALID');
    expect(refusal(allowing, '<speak>pay &#x202E;0001$</speak>').message).toContain('U+202E (a control, bidi control, invisible character or lone surrogate, written as a reference)');
    expect(refusal(allowing, '<speak><voice name="&#x202E;en">x</voice></speak>').code).toBe('INPUT_REFUSED');
    expect(refusal(allowing, '<!DOCTYPE x [<!ENTITY a "b">]><speak>&a;</speak>').code).toBe('INPUT_REFUSED');
    expect(refusal(allowing, `<speak>${'<p>'.repeat(1)}${'<prosody>'.repeat(40)}x${'</prosody>'.repeat(40)}</p></speak>`).code).toBe('SSML_TOO_DEEP');
  });

  it('refuses markup in plain text, naming it', () => {
    const validator = new InputValidator();
    expect(refusal(validator, 'hi <break time="9s"/> there').message).toBe('text 1:4: markup "<break time=\\"9s\\"/>" is not allowed');
    expect(refusal(validator, 'x &amp; y').code).toBe('INPUT_REFUSED');
    expect(refusal(validator, 'wait [pause 10s] now').code).toBe('INPUT_REFUSED');
    expect(refusal(validator, '{joy}yay{/joy}').code).toBe('INPUT_REFUSED');
  });

  it('sanitizeMarkup removes markup and hidden characters instead, even nested to rebuild a tag', () => {
    const validator = new InputValidator({ sanitizeMarkup: true });
    expect(validator.validate('<speak>hi</speak>')).toEqual({ text: 'hi', format: 'text' });
    expect(validator.validate('a<<b>break/>b \u202Ec')).toEqual({ text: 'a<break/>b c'.replace('<break/>', ''), format: 'text' });
    expect(validator.validate('<sc<x>ript>').text).not.toMatch(/<[a-z]/i);
  });

  it('refuses invisible characters that hide or reorder text: bidi marks, zero-width space, word joiners, BOM, tag characters', () => {
    const validator = new InputValidator();
    for (const [hidden, code] of [['\u200E', 'U+200E'], ['\u200F', 'U+200F'], ['\u061C', 'U+061C'], ['\u200B', 'U+200B'], ['\u2060', 'U+2060'], ['\uFEFF', 'U+FEFF'], ['\u{E0041}', 'U+E0041']] as const) {
      expect(refusal(validator, `pay${hidden}load`).message, code).toContain(code);
      expect(new InputValidator({ sanitizeMarkup: true }).validate(`pay${hidden}load`).text, code).toBe('payload');
    }
    // Joiners that scripts and emoji need stay: ZWNJ (Persian), ZWJ (emoji sequences).
    expect(validator.validate('\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 \u{1F469}\u200D\u{1F4BB}').text).toContain('\u200D');
  });

  it('with allowSsml, checks what is spoken too: a <sub alias> written with a bidi override reference is refused', () => {
    const allowing = new InputValidator({ allowSsml: true });
    expect(refusal(allowing, '<speak><sub alias="&#x202E;evil">w</sub></speak>').message).toContain('U+202E');
    expect(refusal(allowing, '<speak><sub alias="pay&#x200B;ee">w</sub></speak>').message).toContain('U+200B');
    expect(allowing.validate('<speak><sub alias="World Wide Web">WWW</sub></speak>').format).toBe('ssml');
  });
});
