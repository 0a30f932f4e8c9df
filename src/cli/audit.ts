/**
 * `voice-soundboard audit verify|replay|query <log>`: inspects a durable attestation log (JSON
 * Lines: a file, or a segmented log's directory). Every subcommand streams the log (one pass,
 * line by line), so a log of any length is checked in constant memory apart from the rebuilt
 * registrar's state. Exit codes: 0 ok, 1 verification or replay failure (a log that cannot be read
 * past some record is one: its code and seq are printed), 2 bad usage (unknown subcommand or
 * flag, missing log, bad flag value) With `--public-key` also its
 * signed checkpoints (audit-signed.ts), a bad or missing checkpoint or signature being a failure (an
 * unsigned tail is a note); `audit public-key <private-key.pem>` prints a signing key's public key.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../attestation/canonical-json.js';
import { AttestationError } from '../attestation/errors.js';
import { AttestationLogReader, iterateAttestationLog } from '../attestation/log-reader.js';
import { attestationQuerySchema, queryPredicate } from '../attestation/query.js';
import { InputError } from '../errors.js';
import { RegistrarReplayError } from '../registrar/errors.js';
import { AttestationStore } from '../attestation/store.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { verify } from '../registrar/verify.js';
import { parseInput } from '../validation.js';
import type { CliCommand, CliIo } from './main.js';
import { checkSigned, publicKeyOfFile, SIGNED_HELP, SIGNED_OPTIONS, signedSummary, type SignedCheck, type SignedFlags } from './audit-signed.js';

const HELP = `Usage: voice-soundboard audit <verify|replay|query> <log.jsonl> [options]
       voice-soundboard audit public-key <private-key.pem>

Inspect a registrar attestation log (JSON Lines, one record per line: a file, or
the directory of a segmented log). The log is streamed, so any length works.

Subcommands:
  verify <log>   check the SHA-256 hash chain and the structural invariants
                 (state.identity.*, state.lineage.*, ordering.*); reports a torn
                 tail, a corrupt line or a missing/extra/reordered segment by code
                 and seq
  replay <log>   rebuild the registrar from the log, re-deciding every request;
                 prints the streams, overrides and the state hash
  query <log>    print the records that match every given filter, as JSON Lines
${SIGNED_HELP.subcommand}

Options:
  --replay             verify: also replay (checks ordering.deterministic)
  --snapshot <file>    verify/replay: the registrar snapshot (JSON) the log continues
  --legacy-rules       replay: the log was written before the issue-8 rules (an
                       enable_override without metadata.membership is read as a
                       declared membership; see ReplayOptions.legacyRules)
${SIGNED_HELP.options}
  --actor <kind:id>    query: by actor ("agent:claude-1" or a bare id)
  --action <action>    query: by action (start, interrupt, ...)
  --target <stream>    query: by stream id
  --decision <d>       query: allowed | denied
  --since <iso>        query: at or after this time (ISO 8601)
  --until <iso>        query: before this time (ISO 8601)
  --json               machine-readable output
  -h, --help           show this help

Exit codes: 0 ok, 1 verification or replay failure, 2 bad usage.
With --public-key, a bad, missing or unmatched checkpoint or snapshot signature is a
failure (1); records after the last checkpoint are reported as an unsigned tail (0).
`;

const OPTIONS = {
  replay: { type: 'boolean' },
  snapshot: { type: 'string' },
  'legacy-rules': { type: 'boolean' },
  actor: { type: 'string' },
  action: { type: 'string' },
  target: { type: 'string' },
  decision: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
  ...SIGNED_OPTIONS,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function usageError(io: CliIo, message: string): number {
  write(io.stderr, `voice-soundboard audit: ${message}\nRun \`voice-soundboard audit --help\` for usage.`);
  return 2;
}

/** The log as a stream that ends (rather than throws) at a problem; `problem`/`tornTail` say why afterwards. */
function readLog(path: string): AttestationLogReader {
  return iterateAttestationLog(path, { strict: false });
}

/** The problem that ended a read (a torn tail included), as verify reports problems, or null. */
function readProblem(reader: AttestationLogReader): { seq: number; invariant: string; message: string; code: string } | null {
  const problem = reader.problem;
  if (problem) return { seq: problem.seq ?? reader.lastSeq + 1, invariant: problem.code === 'ATTESTATION_LOG_CORRUPT' ? 'attestation.schema' : 'attestation.log', message: `[${problem.code}] ${problem.message}`, code: problem.code };
  const torn = reader.tornTail;
  if (torn) return { seq: reader.lastSeq + 1, invariant: 'attestation.torn_tail', message: `torn tail: ${torn.lengthBytes} bytes at offset ${torn.offsetBytes} are a partial record`, code: 'ATTESTATION_TORN_TAIL' };
  return null;
}

/** A log that is not there (or not readable at all) is a usage error, not a failed verification. */
function unreadable(reader: AttestationLogReader): AttestationError | null {
  const problem = reader.problem;
  return problem && problem.code === 'ATTESTATION_IO' && reader.records === 0 ? problem : null;
}

function readSnapshot(path: string | undefined): unknown {
  if (path === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (cause) {
    throw new InputError(`--snapshot: cannot read a JSON snapshot from ${path} (${(cause as Error).message})`, { field: 'snapshot', cause });
  }
}

function signedFlags(values: Values): SignedFlags | null {
  const publicKeyFile = values['public-key'];
  return publicKeyFile === undefined ? null : { publicKeyFile, checkpointFile: values.checkpoints, anchorFile: values.anchor };
}

function startOf(snapshot: unknown): { seq: number; hash: string } | undefined {
  const head = snapshot as { lastSeq?: number; lastHash?: string } | undefined;
  return head && typeof head.lastSeq === 'number' && typeof head.lastHash === 'string' ? { seq: head.lastSeq, hash: head.lastHash } : undefined;
}

function runVerify(path: string, reader: AttestationLogReader, values: Values, io: CliIo): number {
  const snapshot = readSnapshot(values.snapshot);
  const start = startOf(snapshot);
  const flags = signedFlags(values);
  const signed: SignedCheck | null = flags ? checkSigned(path, flags, start, snapshot) : null;
  const report = verify(reader, { ...(start ? { start } : {}), replay: values.replay === true, ...(snapshot !== undefined ? { snapshot } : {}) });
  const missing = unreadable(reader);
  if (missing) return usageError(io, missing.message);
  const problems: { seq: number; invariant: string; message: string }[] = [...report.errors, ...(signed?.problems ?? [])];
  const ended = readProblem(reader);
  if (ended) problems.push({ seq: ended.seq, invariant: ended.invariant, message: ended.message });
  const ok = problems.length === 0;
  problems.sort((a, b) => a.seq - b.seq);
  const firstBadSeq = problems[0]?.seq ?? null;
  if (values.json === true) {
    const signature = signed ? { signature: signed.report.signature, signatureWarnings: signed.report.warnings } : {};
    write(io.stdout, JSON.stringify({ ok, records: report.records, firstBadSeq, errors: problems, warnings: report.warnings, tornTail: reader.tornTail, code: ended?.code ?? null, ...signature }));
  } else {
    for (const problem of problems) write(io.stderr, `error  seq ${problem.seq}  ${problem.invariant}: ${problem.message}`);
    for (const warning of report.warnings) write(io.stdout, `warn   seq ${warning.seq}  ${warning.invariant}: ${warning.message}`);
    for (const line of signed ? signedSummary(signed) : []) write(io.stdout, line);
    const vouched = signed?.report.signature?.signedThroughSeq;
    if (ok) write(io.stdout, `ok: ${report.records} records, hash chain intact, structural invariants hold${values.replay === true ? ', replay deterministic' : ''}${signed ? `, checkpoints signed through seq ${vouched ?? '-'}` : ''}`);
    else write(io.stderr, `FAILED: ${problems.length} problem(s) in ${report.records} records`);
  }
  return ok ? 0 : 1;
}

function runReplay(path: string, reader: AttestationLogReader, values: Values, io: CliIo): number {
  const snapshot = readSnapshot(values.snapshot);
  const flags = signedFlags(values);
  if (flags) {
    // Replays only what the key vouches for: the checkpoints must hold, the snapshot must be signed.
    const signed = checkSigned(path, flags, startOf(snapshot), snapshot);
    const first = signed.problems.sort((a, b) => a.seq - b.seq)[0];
    if (first) {
      write(io.stderr, `cannot replay: seq ${first.seq}  ${first.invariant}: ${first.message}`);
      return 1;
    }
    if (values.json !== true) for (const line of signedSummary(signed)) write(io.stdout, line);
  }
  let registrar: AudioRegistrar;
  // The rebuilt registrar is only inspected: its store keeps a window, not the whole log.
  const options = { store: inspectionStore(snapshot), ...(values['legacy-rules'] === true ? { legacyRules: true } : {}) };
  try {
    registrar = snapshot !== undefined ? AudioRegistrar.restore(snapshot, reader, options) : AudioRegistrar.replay(reader, options);
  } catch (error) {
    if (error instanceof RegistrarReplayError) {
      const ended = readProblem(reader);
      write(io.stderr, ended ? `cannot replay: ${ended.message}` : `replay failed at seq ${error.seq} [${error.code}]: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const missing = unreadable(reader);
  if (missing) return usageError(io, missing.message);
  const ended = readProblem(reader);
  if (ended) {
    write(io.stderr, `cannot replay: ${ended.message} (seq ${ended.seq})`);
    return 1;
  }
  const streams = registrar.listStates();
  const overrides = registrar.listOverrides();
  if (values.json === true) {
    write(io.stdout, JSON.stringify({ ok: true, lastSeq: registrar.attestationStore.lastSeq, stateHash: registrar.stateHash(), halted: registrar.halted, streams, overrides }));
    return 0;
  }
  write(io.stdout, `replayed ${reader.records} records to seq ${registrar.attestationStore.lastSeq}: every decision matches`);
  write(io.stdout, `state hash ${registrar.stateHash()}${registrar.halted ? ' (HALTED)' : ''}`);
  for (const stream of streams) write(io.stdout, `stream ${stream.streamId}  ${stream.state}  owner=${stream.owner ?? '-'}  v${stream.version}`);
  for (const override of overrides) write(io.stdout, `override ${override.scope}:${override.scopeId}  owner=${override.owner}`);
  return 0;
}

/** A memory store that keeps a window (the registrar replay rebuilds is only inspected), after the snapshot's head when there is one. */
function inspectionStore(snapshot: unknown): AttestationStore {
  const head = snapshot as { lastSeq?: unknown; lastHash?: unknown } | undefined;
  const start = head && typeof head.lastSeq === 'number' && typeof head.lastHash === 'string' && /^[0-9a-f]{64}$/.test(head.lastHash) ? { head: { seq: head.lastSeq, hash: head.lastHash } } : {};
  return new AttestationStore({ retain: 'window', memoryRecords: 1024, ...start });
}

function runQuery(reader: AttestationLogReader, values: Values, io: CliIo): number {
  const query = parseInput(
    attestationQuerySchema,
    Object.fromEntries(Object.entries({ actor: values.actor, action: values.action, target: values.target, decision: values.decision, since: values.since, until: values.until }).filter(([, value]) => value !== undefined)),
    'query',
  );
  const predicate = queryPredicate(query);
  // Matches are printed as they are found (--json: one array, written element by element).
  let matches = 0;
  for (const record of reader) {
    if (!predicate(record)) continue;
    if (values.json === true) io.stdout.write(`${matches === 0 ? '[' : ','}${JSON.stringify(record)}`);
    else write(io.stdout, canonicalJson(record));
    matches += 1;
  }
  const missing = unreadable(reader);
  if (missing) return usageError(io, missing.message);
  if (values.json === true) write(io.stdout, matches === 0 ? '[]' : ']');
  const ended = readProblem(reader);
  if (ended) write(io.stderr, `note: the log ${ended.code === 'ATTESTATION_TORN_TAIL' ? 'ends in a torn record' : `cannot be read past seq ${reader.lastSeq} (${ended.message})`}; only complete records before it were searched`);
  return 0;
}

function runPublicKey(privateKeyFile: string, values: Values, io: CliIo): number {
  const extra = (Object.keys(values) as (keyof Values)[]).find((flag) => values[flag] !== undefined);
  if (extra !== undefined) return usageError(io, `public-key: --${extra} is not an option of public-key`);
  try {
    write(io.stdout, publicKeyOfFile(privateKeyFile));
    return 0;
  } catch (error) {
    if (error instanceof InputError || error instanceof AttestationError) return usageError(io, `${error.message}${error instanceof AttestationError ? ` [${error.code}]` : ''}`);
    throw error;
  }
}

/** The `audit` subcommand. */
export const auditCommand: CliCommand = {
  summary: 'verify, replay or query a registrar attestation log',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args.includes('-h') || args.includes('--help')) {
      write(io.stdout, HELP);
      return 0;
    }
    let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
    try {
      parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      return usageError(io, (error as Error).message);
    }
    const [subcommand, path, ...extra] = parsed.positionals;
    if (subcommand === undefined) return usageError(io, 'missing subcommand (verify, replay, query or public-key)');
    if (!['verify', 'replay', 'query', 'public-key'].includes(subcommand)) return usageError(io, `unknown subcommand "${subcommand}" (expected verify, replay, query or public-key)`);
    if (path === undefined) return usageError(io, `${subcommand}: missing the ${subcommand === 'public-key' ? 'private key' : 'log'} file`);
    if (extra.length > 0) return usageError(io, `${subcommand}: unexpected argument "${extra[0] ?? ''}"`);
    if (subcommand === 'public-key') return runPublicKey(path, parsed.values, io);
    const signedFlag = (['public-key', 'checkpoints', 'anchor'] as const).find((flag) => parsed.values[flag] !== undefined);
    if (subcommand === 'query' && signedFlag) return usageError(io, `query: --${signedFlag} belongs to verify/replay`);
    if (parsed.values['public-key'] === undefined && signedFlag) return usageError(io, `${subcommand}: --${signedFlag} needs --public-key`);
    const queryFlags = (['actor', 'action', 'target', 'decision', 'since', 'until'] as const).filter((flag) => parsed.values[flag] !== undefined);
    if (subcommand !== 'query' && queryFlags.length > 0) return usageError(io, `${subcommand}: --${queryFlags[0] ?? ''} is a query option`);
    if (subcommand === 'query' && (parsed.values.replay === true || parsed.values.snapshot !== undefined)) return usageError(io, 'query: --replay and --snapshot belong to verify/replay');
    if (subcommand === 'replay' && parsed.values.replay === true) return usageError(io, 'replay: --replay is a verify option');
    if (subcommand !== 'replay' && parsed.values['legacy-rules'] === true) return usageError(io, `${subcommand}: --legacy-rules is a replay option`);
    const reader = readLog(path);
    try {
      if (subcommand === 'verify') return runVerify(path, reader, parsed.values, io);
      if (subcommand === 'replay') return runReplay(path, reader, parsed.values, io);
      return runQuery(reader, parsed.values, io);
    } catch (error) {
      if (error instanceof InputError || error instanceof AttestationError) return usageError(io, error.message);
      throw error;
    }
  },
};
