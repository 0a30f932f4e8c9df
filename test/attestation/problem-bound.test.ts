/**
 * A log damaged throughout is reported in bounded memory: `verifyLog` and `verify` list at most
 * MAX_LISTED_PROBLEMS errors, then one `report.truncated` entry counting the rest, and still
 * name the first bad seq and say not ok (planted: 5,000 edited records gave 5,000 error objects,
 * one per record, growing with the log).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { MAX_LISTED_PROBLEMS, ProblemList } from '../../src/attestation/problem-list.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-problem-bound-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RECORDS = 5000;

/** A log of RECORDS starts whose every record's `reason`-free field was edited without its hash recomputed. */
async function editedThroughout(): Promise<string> {
  const path = join(dir, 'edited.jsonl');
  const { registrar } = AudioRegistrar.openLog(path, { durability: 'group' });
  registrar.registerActor('agent:a');
  for (let index = 0; index < RECORDS; index += 1) registrar.requestAsHost({ action: 'start', actor: 'agent:a' });
  await registrar.close();
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
  expect(lines.length).toBeGreaterThanOrEqual(RECORDS);
  // Every record's actor is re-attributed, hashes left as they were.
  writeFileSync(path, `${lines.map((line) => line.replace('{"id":"a","kind":"agent"}', '{"id":"b","kind":"agent"}')).join('\n')}\n`);
  return path;
}

describe('verifier reports are bounded', () => {
  it('verifyLog lists at most MAX_LISTED_PROBLEMS errors and counts the rest; firstBadSeq and ok stay exact', async () => {
    const path = await editedThroughout();
    const report = verifyLog(path);
    expect(report.ok).toBe(false);
    expect(report.errors).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(report.errors.at(-1)).toMatchObject({ invariant: 'report.truncated', message: expect.stringMatching(/^\d+ more problems from seq \d+ on are not listed/) });
    const listed = report.errors.slice(0, -1);
    expect(report.firstBadSeq).toBe(Math.min(...listed.map((problem) => problem.seq)));
    // The same log through verify() (the structural checks): bounded the same way.
    const structural = verify(iterateAttestationLog(path, { strict: false }));
    expect(structural.ok).toBe(false);
    expect(structural.errors.length).toBeLessThanOrEqual(MAX_LISTED_PROBLEMS + 1);
    expect(structural.errors.at(-1)?.invariant).toBe('report.truncated');
  });

  it('ProblemList: lists up to its bound, then counts, keeping the lowest seq (of all, and of those left out)', () => {
    const list = new ProblemList(2);
    expect(list.list()).toEqual([]);
    list.add(5, 'a', 'five');
    list.add(3, 'a', 'three');
    list.add(9, 'b', 'nine');
    list.add(1, 'b', 'one');
    expect(list.count).toBe(4);
    expect(list.lowestSeq).toBe(1);
    expect(list.list()).toEqual([
      { seq: 5, invariant: 'a', message: 'five' },
      { seq: 3, invariant: 'a', message: 'three' },
      // The problems left out are 9 and 1: the entry names the lowest (planted: "from seq 9 on", while seq 1 was one of them).
      { seq: 1, invariant: 'report.truncated', message: '2 more problems from seq 1 on are not listed (the first 2 are)' },
    ]);
  });
});
