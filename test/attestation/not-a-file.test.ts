/**
 * A log is a regular file (or a segmented log's directory): a device, FIFO or socket would take
 * appends it can never give back (/dev/null swallows every record), so opening or reading one is
 * refused with ATTESTATION_NOT_A_FILE before anything is written.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/durable-log.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-not-a-file-'));
const fifo = join(dir, 'log.fifo');
execFileSync('mkfifo', [fifo]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a log that is not a regular file', () => {
  for (const [what, path] of [['/dev/null (a device)', '/dev/null'], ['a FIFO', fifo]] as const) {
    it(`${what} is refused by openLog, AttestationStore.open and the reader, and left as it was`, () => {
      const refused = expect.objectContaining({ code: 'ATTESTATION_NOT_A_FILE', path, seq: 1 });
      expect(() => AudioRegistrar.openLog(path)).toThrow(refused);
      expect(() => AttestationStore.open(path, { durability: 'group' })).toThrow(refused);
      expect(() => [...iterateAttestationLog(path)]).toThrow(refused);
      expect(statSync(path).isFile()).toBe(false);
    });
  }
});
