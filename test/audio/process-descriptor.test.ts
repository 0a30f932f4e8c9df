// Which paths name this process's own descriptors (written through on the descriptor, never
// reopened or replaced: review finding 3), and which do not (negative controls).
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openOutputTarget } from '../../src/audio/output-target.js';
import { processDescriptorOf } from '../../src/audio/process-descriptor.js';
import { rejection } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-fd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, /proc/<own pid>/fd/N and symlink chains to them', async () => {
  symlinkSync('/dev/stdout', join(dir, 'a'));
  symlinkSync(join(dir, 'a'), join(dir, 'b'));
  symlinkSync('/proc/self/fd', join(dir, 'fds'));
  expect(await processDescriptorOf('/dev/stdout')).toBe(1);
  expect(await processDescriptorOf('/dev/stderr')).toBe(2);
  expect(await processDescriptorOf('/dev/fd/7')).toBe(7);
  expect(await processDescriptorOf('/proc/self/fd/2')).toBe(2);
  expect(await processDescriptorOf(`/proc/${process.pid}/fd/1`)).toBe(1);
  expect(await processDescriptorOf(join(dir, 'b'))).toBe(1);
  expect(await processDescriptorOf(join(dir, 'fds', '2'))).toBe(2);
});

it('negative controls: another process\'s descriptors, files, links to files and new paths are not descriptors', async () => {
  writeFileSync(join(dir, 'file'), 'x');
  symlinkSync(join(dir, 'file'), join(dir, 'to-file'));
  expect(await processDescriptorOf('/proc/1/fd/1')).toBeNull();
  expect(await processDescriptorOf(join(dir, 'file'))).toBeNull();
  expect(await processDescriptorOf(join(dir, 'to-file'))).toBeNull();
  expect(await processDescriptorOf(join(dir, 'nothing-yet.wav'))).toBeNull();
  expect(await processDescriptorOf('/dev/null')).toBeNull();
});

it('a descriptor that is not open is OUTPUT_CLOSED, nothing opened or created', async () => {
  expect(await rejection(openOutputTarget('/dev/fd/987'))).toMatchObject({ code: 'OUTPUT_CLOSED' });
  expect((await openOutputTarget('/dev/stderr')).kind).toBe('descriptor');
});
