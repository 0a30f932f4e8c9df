/** The registrar schema version and version negotiation (spec §7). */

/** The schema version this registrar speaks and writes into every attestation. */
export const REGISTRAR_SCHEMA_VERSION = '2.9.0';

/** Versions a peer may ask for, oldest first (major.minor). */
export const SUPPORTED_SCHEMA_VERSIONS = ['2.6', '2.7', '2.8', '2.9'] as const;

/** One supported schema version, as a major.minor string. */
export type SupportedSchemaVersion = (typeof SUPPORTED_SCHEMA_VERSIONS)[number];

/** The version negotiation answers when the request is unknown or malformed: the current major.minor. */
const CURRENT_SCHEMA_VERSION: SupportedSchemaVersion = '2.9';

/**
 * The best supported version for a requested one, as a major.minor string (the 2.9 contract's
 * VersionNegotiator): a supported `x.y` answers `x.y`, an exact `x.y.z` is matched on `x.y`
 * (`'2.7.3'` → `'2.7'`), anything unknown or malformed answers `'2.9'`.
 */
export function negotiateVersion(requested: unknown): SupportedSchemaVersion {
  if (typeof requested !== 'string') return CURRENT_SCHEMA_VERSION;
  const match = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(requested.trim());
  if (!match) return CURRENT_SCHEMA_VERSION;
  const minor = `${match[1]}.${match[2]}`;
  return SUPPORTED_SCHEMA_VERSIONS.find((version) => version === minor) ?? CURRENT_SCHEMA_VERSION;
}
