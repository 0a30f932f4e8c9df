/**
 * A backend fixture with voices of its own (none of them espeak-ng's), checked like a real
 * backend checks them: `checkVoice` refuses an id it does not list (`VOICE_UNKNOWN`), and every
 * segment records the voice it was asked for (`undefined` = the backend's own default) and is
 * spoken as a constant level.
 */
import { BaseBackend, type BackendCapabilities, type VoiceInfo, type VoiceRequest, type VoiceRequestProblem } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../../src/graph/engine-output.js';

/** One voice of the fixture: id, language and gender as `voices()` lists them. */
export interface ListedVoice {
  id: string;
  language: string;
  gender?: 'female' | 'male';
}

/** Voices of a small multi-voice backend: English (two genders, two accents) and one German. */
export const FIXTURE_VOICES: readonly ListedVoice[] = Object.freeze([
  { id: 'de_anna', language: 'de-DE', gender: 'female' },
  { id: 'us_ava', language: 'en-US', gender: 'female' },
  { id: 'us_bea', language: 'en-US', gender: 'female' },
  { id: 'us_cal', language: 'en-US', gender: 'male' },
  { id: 'gb_dan', language: 'en-GB', gender: 'male' },
]);

/** Speaks `framesPerSegment` of a constant level per segment, recording the voice asked for. */
export class VoiceListBackend extends BaseBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  /** The voice each segment was asked for, in order (`undefined`: none, the backend's default). */
  readonly voicesAsked: Array<string | undefined> = [];

  constructor(
    private readonly listed: readonly ListedVoice[],
    private readonly shape: { sampleRateHz: number; framesPerSegment: number },
    name = 'voice-list',
  ) {
    super();
    this.name = name;
  }

  async voices(): Promise<VoiceInfo[]> {
    return this.listed.map((voice) => ({ id: voice.id, backend: this.name, name: voice.id, languages: [voice.language], ...(voice.gender ? { gender: voice.gender } : {}) }));
  }

  async checkVoice(request: VoiceRequest): Promise<VoiceRequestProblem | undefined> {
    if (request.voice === undefined || this.listed.some((voice) => voice.id === request.voice)) return undefined;
    return { part: 'voice', code: 'VOICE_UNKNOWN', message: `unknown voice ${JSON.stringify(request.voice)} (expected one of ${this.listed.map((voice) => voice.id).join(', ')})` };
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions): AsyncIterable<EngineOutput> {
    const voice = options.voice ?? segment.voice;
    this.voicesAsked.push(voice);
    yield { pcm: new Float32Array(this.shape.framesPerSegment).fill(0.3), sampleRateHz: this.shape.sampleRateHz, channels: 1, metadata: {} };
  }
}
