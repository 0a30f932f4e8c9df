/**
 * Golden phonemes for the neural backends: 23 sentences in English (US and GB), French, German and
 * Spanish. The expectations are written from the reference tools, not from our code:
 *
 * - `espeakIpa`: espeak-ng 1.51's IPA for the sentence (`espeak-ng -q --ipa=3 -v <espeakVoice>` per
 *   run between punctuation marks, the marks put back as phonemizer's `preserve_punctuation` does;
 *   zero-width joiners shown as misaki's tie `^`; `(en)` language flags removed).
 * - `kokoro`: misaki's published rules (hexgrad/misaki misaki/espeak.py: `EspeakFallback` for
 *   en-us/en-gb with Kokoro v1.0's `ɾ`->`T`, `ʔ`->`t`; `EspeakG2P` for the other languages) applied
 *   to `espeakIpa` by hand, outside this code base.
 * - `piper`: piper-phonemize's (rhasspy/piper-phonemize src/phonemize.cpp): the same IPA without
 *   ties, decomposed to NFD (`ç` is `c` + U+0327), clause punctuation as piper adds it.
 *
 * Combining marks are written as escapes: U+0303 nasal, U+0327 cedilla, U+0329 syllabic.
 * Kokoro's voice decides the language where no `kokoroLanguage` is given (a/b/f/e voices).
 */

/** One golden sentence. */
export interface PhonemeGolden {
  text: string;
  /** espeak-ng voice of the reference IPA (and of the Piper voice's config). */
  espeakVoice: string;
  /** Kokoro voice to synthesize with (its first letter gives the language). */
  kokoroVoice: string;
  /** A language the caller passes to Kokoro (none: the voice's own). */
  kokoroLanguage?: string;
  espeakIpa: string;
  /** Kokoro v1.0 training symbols (before the tokenizer drops symbols outside the vocabulary). */
  kokoro: string;
  /** Piper's phonemes, NFD code points. */
  piper: string;
}

/** The golden sentences. */
export const PHONEME_GOLDENS: readonly PhonemeGolden[] = [
  {
    text: 'Hello there, how are you doing today?',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'həlˈo^ʊ ðˈɛ^ɹ, hˌa^ʊ ɑː^ɹ juː dˌuːɪŋ tədˈe^ɪ?',
    kokoro: 'həlˈO ðˈɛɹ, hˌW ɑɹ ju dˌuɪŋ tədˈA?',
    piper: 'həlˈoʊ ðˈɛɹ, hˌaʊ ɑːɹ juː dˌuːɪŋ tədˈeɪ?',
  },
  {
    text: 'I bought a new chair and a boat.',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'a^ɪ bˈɔːt ɐ nˈuː t^ʃˈɛ^ɹ ænd ɐ bˈo^ʊt.',
    kokoro: 'I bˈɔt ə nˈu ʧˈɛɹ ænd ə bˈOt.',
    piper: 'aɪ bˈɔːt ɐ nˈuː tʃˈɛɹ ænd ɐ bˈoʊt.',
  },
  {
    text: 'The butter was better than the water.',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'ðə bˈʌɾɚ wʌz bˈɛɾɚ ðɐn ðə wˈɔːɾɚ.',
    kokoro: 'ðə bˈʌTəɹ wʌz bˈɛTəɹ ðən ðə wˈɔTəɹ.',
    piper: 'ðə bˈʌɾɚ wʌz bˈɛɾɚ ðɐn ðə wˈɔːɾɚ.',
  },
  {
    text: 'She sells seashells by the seashore.',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'ʃiː sˈɛlz sˈiːʃɛlz ba^ɪ ðə sˈiːʃoː^ɹ.',
    kokoro: 'ʃi sˈɛlz sˈiʃɛlz bI ðə sˈiʃɔɹ.',
    piper: 'ʃiː sˈɛlz sˈiːʃɛlz baɪ ðə sˈiːʃoːɹ.',
  },
  {
    text: 'Button, kitten and pixel!',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'bˈʌʔn\u0329, kˈɪʔn\u0329 ænd pˈɪksə^l!',
    kokoro: 'bˈʌtn, kˈɪtn ænd pˈɪksᵊl!',
    piper: 'bˈʌʔn\u0329, kˈɪʔn\u0329 ænd pˈɪksəl!',
  },
  {
    text: 'My merchantship sailed at nine.',
    espeakVoice: 'en-us',
    kokoroVoice: 'af_golden',
    espeakIpa: 'ma^ɪ mˈɜːt^ʃəntʃˌɪp sˈe^ɪld æt nˈa^ɪn.',
    kokoro: 'mI mˈɜɹʧəntʃˌɪp sˈAld æt nˈIn.',
    piper: 'maɪ mˈɜːtʃəntʃˌɪp sˈeɪld æt nˈaɪn.',
  },
  {
    text: 'I bought a new chair and a boat.',
    espeakVoice: 'en-gb',
    kokoroVoice: 'bf_golden',
    espeakIpa: 'a^ɪ bˈɔːt ɐ njˈuː t^ʃˈe^ə and ɐ bˈə^ʊt.',
    kokoro: 'I bˈɔːt ə njˈuː ʧˈAə and ə bˈQt.',
    piper: 'aɪ bˈɔːt ɐ njˈuː tʃˈeə and ɐ bˈəʊt.',
  },
  {
    text: 'Where is the hair near the door?',
    espeakVoice: 'en-gb',
    kokoroVoice: 'bf_golden',
    espeakIpa: 'wˌe^əɹ ɪz ðə hˈe^ə nˌi^ə ðə dˈɔː?',
    kokoro: 'wˌAəɹ ɪz ðə hˈAə nˌiə ðə dˈɔː?',
    piper: 'wˌeəɹ ɪz ðə hˈeə nˌiə ðə dˈɔː?',
  },
  {
    text: 'Bonjour, je m\'appelle Jean.',
    espeakVoice: 'fr-fr',
    kokoroVoice: 'ff_golden',
    espeakIpa: 'bɔ\u0303ʒˈuʁ, ʒə- mapˈɛl ʒˈɑ\u0303.',
    kokoro: 'bɔ\u0303ʒˈuʁ, ʒə mapˈɛl ʒˈɑ\u0303.',
    piper: 'bɔ\u0303ʒˈuʁ, ʒə- mapˈɛl ʒˈɑ\u0303.',
  },
  {
    text: 'Un bon vin blanc.',
    espeakVoice: 'fr-fr',
    kokoroVoice: 'ff_golden',
    espeakIpa: 'œ\u0303 bˈɔ\u0303 vˈɛ\u0303 blˈɑ\u0303.',
    kokoro: 'œ\u0303 bˈɔ\u0303 vˈɛ\u0303 blˈɑ\u0303.',
    piper: 'œ\u0303 bˈɔ\u0303 vˈɛ\u0303 blˈɑ\u0303.',
  },
  {
    text: 'Le weekend, nous allons au cinéma.',
    espeakVoice: 'fr-fr',
    kokoroVoice: 'ff_golden',
    espeakIpa: 'lə- wiːkˈɛnd, nuz alˈɔ\u0303z o sinemˈa.',
    kokoro: 'lə wiːkˈɛnd, nuz alˈɔ\u0303z o sinemˈa.',
    piper: 'lə- wiːkˈɛnd, nuz alˈɔ\u0303z o sinemˈa.',
  },
  {
    text: 'Il fait très beau aujourd\'hui!',
    espeakVoice: 'fr-fr',
    kokoroVoice: 'ff_golden',
    espeakIpa: 'il fˈɛ tʁɛ bˈo oʒuʁdyˈi!',
    kokoro: 'il fˈɛ tʁɛ bˈo oʒuʁdyˈi!',
    piper: 'il fˈɛ tʁɛ bˈo oʒuʁdyˈi!',
  },
  {
    text: 'Où est la gare?',
    espeakVoice: 'fr-fr',
    kokoroVoice: 'ff_golden',
    espeakIpa: 'u ɛ la- ɡˈaʁ?',
    kokoro: 'u ɛ la ɡˈaʁ?',
    piper: 'u ɛ la- ɡˈaʁ?',
  },
  {
    text: 'Guten Tag, wie geht es Ihnen?',
    espeakVoice: 'de',
    kokoroVoice: 'af_golden',
    kokoroLanguage: 'de',
    espeakIpa: 'ɡˈuːtən tˈɑːk, viː ɡˈeːt ɛs ˈiːnən?',
    kokoro: 'ɡˈuːtən tˈɑːk, viː ɡˈeːt ɛs ˈiːnən?',
    piper: 'ɡˈuːtən tˈɑːk, viː ɡˈeːt ɛs ˈiːnən?',
  },
  {
    text: 'Ich habe keine Zeit.',
    espeakVoice: 'de',
    kokoroVoice: 'af_golden',
    kokoroLanguage: 'de',
    espeakIpa: 'ɪç hɑːbə kˈa^ɪnə t^sˈa^ɪt.',
    kokoro: 'ɪç hɑːbə kˈInə ʦˈIt.',
    piper: 'ɪc\u0327 hɑːbə kˈaɪnə tsˈaɪt.',
  },
  {
    text: 'Die Leute sprechen Deutsch.',
    espeakVoice: 'de',
    kokoroVoice: 'af_golden',
    kokoroLanguage: 'de',
    espeakIpa: 'diː lˈɔ^øtə ʃpɾˈɛçən dˈɔ^øtʃ.',
    kokoro: 'diː lˈɔøtə ʃpɾˈɛçən dˈɔøtʃ.',
    piper: 'diː lˈɔøtə ʃpɾˈɛc\u0327ən dˈɔøtʃ.',
  },
  {
    text: 'Das Wetter ist heute schön.',
    espeakVoice: 'de',
    kokoroVoice: 'af_golden',
    kokoroLanguage: 'de',
    espeakIpa: 'das vˈɛtɜ ɪst hˈɔ^øtə ʃˈøːn.',
    kokoro: 'das vˈɛtɜ ɪst hˈɔøtə ʃˈøːn.',
    piper: 'das vˈɛtɜ ɪst hˈɔøtə ʃˈøːn.',
  },
  {
    text: 'Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.',
    espeakVoice: 'de',
    kokoroVoice: 'af_golden',
    kokoroLanguage: 'de',
    espeakIpa: 't^svˈœlf bˈɔkskɛmpfɜ jˈɑːɡən vˈɪktoːɾ kvˈeːɾ ˌyːbɜ deːn ɡɾˈoːsən zˈyltɜ dˈa^ɪç.',
    kokoro: 'ʦvˈœlf bˈɔkskɛmpfɜ jˈɑːɡən vˈɪktoːɾ kvˈeːɾ ˌyːbɜ deːn ɡɾˈoːsən zˈyltɜ dˈIç.',
    piper: 'tsvˈœlf bˈɔkskɛmpfɜ jˈɑːɡən vˈɪktoːɾ kvˈeːɾ ˌyːbɜ deːn ɡɾˈoːsən zˈyltɜ dˈaɪc\u0327.',
  },
  {
    text: 'Hola, ¿cómo estás?',
    espeakVoice: 'es',
    kokoroVoice: 'ef_golden',
    espeakIpa: 'ˈola, kˈomo estˈas?',
    kokoro: 'ˈola, kˈomo estˈas?',
    piper: 'ˈola, kˈomo estˈas?',
  },
  {
    text: 'Muchas gracias.',
    espeakVoice: 'es',
    kokoroVoice: 'ef_golden',
    espeakIpa: 'mˈut^ʃas ɣɾˈaθjas.',
    kokoro: 'mˈuʧas ɣɾˈaθjas.',
    piper: 'mˈutʃas ɣɾˈaθjas.',
  },
  {
    text: 'El perro come carne.',
    espeakVoice: 'es',
    kokoroVoice: 'ef_golden',
    espeakIpa: 'el pˈero kˈome kˈaɾne.',
    kokoro: 'el pˈero kˈome kˈaɾne.',
    piper: 'el pˈero kˈome kˈaɾne.',
  },
  {
    text: 'Me llamo Juan y vivo en Madrid.',
    espeakVoice: 'es',
    kokoroVoice: 'ef_golden',
    espeakIpa: 'me ʎˈamo xwˈan i βˈiβo en maðɾˈid.',
    kokoro: 'me ʎˈamo xwˈan i βˈiβo en maðɾˈid.',
    piper: 'me ʎˈamo xwˈan i βˈiβo en maðɾˈid.',
  },
  {
    text: '¡Qué bonito día!',
    espeakVoice: 'es',
    kokoroVoice: 'ef_golden',
    espeakIpa: 'kˈe βonˈito ðˈia!',
    kokoro: 'kˈe βonˈito ðˈia!',
    piper: 'kˈe βonˈito ðˈia!',
  },
];
