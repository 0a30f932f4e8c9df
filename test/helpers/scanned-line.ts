/**
 * The fields of a line line-scan.ts's scanner accepted, as values: what the differential tests
 * compare with JSON.parse's reading of the same line.
 */
import { SCANNED_FIELDS, scanLine, type ScannedLine } from '../../src/attestation/line-scan.js';

/** what `scanLine` accepted in `line` (a log line without its newline), or null. */
export function scanCanonicalLine(line: string): (Omit<ScannedLine, 'fields' | 'hashAt' | 'prevHashAt' | 'hashMemberAt'> & Record<(typeof SCANNED_FIELDS)[number] | 'hash' | 'prevHash', string | null>) | null {
  const lineBytes = Buffer.from(line, 'utf8');
  const found = scanLine(lineBytes, 0, lineBytes.length);
  if (found === null) return null;
  const { fields, accessibility, allowed, seq, version, observed, compaction } = found;
  const field = (index: number): string | null => ((fields[2 * index] as number) < 0 ? null : lineBytes.toString('latin1', fields[2 * index], fields[2 * index + 1]));
  const values = Object.fromEntries(SCANNED_FIELDS.map((name, index) => [name, field(index)])) as Record<(typeof SCANNED_FIELDS)[number], string | null>;
  return {
    ...values,
    hash: lineBytes.toString('latin1', found.hashAt, found.hashAt + 64),
    prevHash: lineBytes.toString('latin1', found.prevHashAt, found.prevHashAt + 64),
    accessibility,
    allowed,
    seq,
    version,
    observed,
    compaction,
  };
}
