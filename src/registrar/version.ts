/** The registrar schema version and version negotiation (spec §7). */

/** The schema version this registrar speaks and writes into every attestation. */
export const REGISTRAR_SCHEMA_VERSION = '2.9.0';

/** Versions a peer may ask for, oldest first (major.minor). */
export const SUPPORTED_SCHEMA_VERSIONS = ['2.6', '2.7', '2.8', '2.9'] as const;

/**
 * The best supported version for a requested one: the same major.minor when supported (an exact
 * `x.y.z` is matched on `x.y`), else the current version. Unknown or malformed input → current.
 */
export function negotiateVersion(requested: unknown): string {
  if (typeof requested !== 'string') return REGISTRAR_SCHEMA_VERSION;
  const match = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(requested.trim());
  if (!match) return REGISTRAR_SCHEMA_VERSION;
  const minor = `${match[1]}.${match[2]}`;
  const supported = SUPPORTED_SCHEMA_VERSIONS.find((version) => version === minor);
  if (!supported) return REGISTRAR_SCHEMA_VERSION;
  return supported === '2.9' ? REGISTRAR_SCHEMA_VERSION : `${supported}.0`;
}
