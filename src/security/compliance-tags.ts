/**
 * Compliance metadata: the tags every speech file the engine writes carries, saying it is
 * synthetic speech and where it came from (generator and version, backend, voice, stream,
 * attestation id, watermark id), and how they map onto each container: WAV LIST/INFO ids
 * (src/audio/wav-info.ts), ID3v2 frames for MP3 and Vorbis comments for Ogg/Opus/FLAC (written by
 * ffmpeg from `-metadata key=value`). Raw PCM and ADTS AAC cannot hold tags.
 */
import { packageVersion } from '../package-version.js';
import { wavInfoChunk } from '../audio/wav-info.js';
import { watermarkId, type WatermarkOptions } from './watermark.js';

/** The tags of one written speech file (metadata keys as ffmpeg writes them). */
export interface ComplianceTags {
  /** `voice-soundboard <version>`. */
  generator: string;
  /** Always `synthetic speech`. */
  comment: string;
  backend: string;
  voice: string;
  /** The registrar stream that produced the file. */
  stream: string;
  /** The id of the stream's first attestation (its `start`), to look up in the audit log. */
  attestation: string;
  /** `watermarkId(...)` of the mark in the audio, or `none`. */
  watermark: string;
}

/** WAV INFO ids of each tag: standard ones for software and comment, `IVS*` of our own for the rest. */
export const COMPLIANCE_INFO_IDS: Readonly<Record<keyof ComplianceTags, string>> = {
  generator: 'ISFT',
  comment: 'ICMT',
  backend: 'IVSB',
  voice: 'IVSV',
  stream: 'IVSS',
  attestation: 'IVSA',
  watermark: 'IVSW',
};

/** What the file says it is. */
export const SYNTHETIC_SPEECH = 'synthetic speech';

/** `voice-soundboard <version>` from the package's own package.json. */
export function generatorName(): string {
  return `voice-soundboard ${packageVersion()}`;
}

/** What a stream knows when its file starts. */
export interface ComplianceSource {
  backend?: string | undefined;
  voice?: string | undefined;
  streamId?: string | undefined;
  attestationId?: string | undefined;
  watermark?: WatermarkOptions | undefined;
}

/** The tags of a file written from `source` (unknown fields say `unknown`; voice `default` when none was asked). */
export function complianceTags(source: ComplianceSource): ComplianceTags {
  return {
    generator: generatorName(),
    comment: SYNTHETIC_SPEECH,
    backend: source.backend || 'unknown',
    voice: source.voice ?? 'default',
    stream: source.streamId ?? 'unknown',
    attestation: source.attestationId ?? 'unknown',
    watermark: source.watermark ? watermarkId(source.watermark) : 'none',
  };
}

/** The LIST/INFO chunk of a WAV file carrying `tags`. */
export function complianceWavInfo(tags: ComplianceTags): Uint8Array {
  return wavInfoChunk((Object.keys(COMPLIANCE_INFO_IDS) as Array<keyof ComplianceTags>).map((key) => [COMPLIANCE_INFO_IDS[key], tags[key]] as const));
}

/** Compliance tags back from a WAV file's INFO ids (only those present). */
export function complianceTagsFromWavInfo(info: Readonly<Record<string, string>>): Partial<ComplianceTags> {
  const tags: Partial<ComplianceTags> = {};
  for (const key of Object.keys(COMPLIANCE_INFO_IDS) as Array<keyof ComplianceTags>) {
    const value = info[COMPLIANCE_INFO_IDS[key]];
    if (value !== undefined) tags[key] = value;
  }
  return tags;
}
