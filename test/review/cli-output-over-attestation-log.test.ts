// REVIEW (adversarial): `speak -o X --attestations X` (or a symlink/hard link to the same file)
// reports "appended 5 attestation(s)" and exits 0, but the audio file is renamed over the log:
// the attestations went to an unlinked inode and the durable log is gone. Expected to FAIL until
// the CLI refuses (exit 2, naming both flags) when -o and --attestations are the same file
// (compare realpath / dev+ino).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'review-cli-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('-o and --attestations naming the same file is a usage error, never a lost log', async () => {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const same = join(dir, 'same.wav');
  const code = await main(['speak', 'Hello.', '-o', same, '--attestations', same], { stdout: new PassThrough(), stderr, stdin: Readable.from([]) });
  const head = readFileSync(same).subarray(0, 4).toString('latin1');
  // Today: code 0, "appended 5 attestation(s)", and the file holds only RIFF audio.
  expect({ code, head }).toEqual({ code: 2, head: expect.not.stringMatching(/^RIFF$/) });
  expect(err).toMatch(/--attestations/);
});
