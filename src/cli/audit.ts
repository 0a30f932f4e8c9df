/**
 * `voice-soundboard audit verify|replay|query <log>`: inspects a durable attestation log (JSON
 * Lines); with `--public-key` also its signed checkpoints (audit-signed.ts); `audit public-key
 * <private-key.pem>` prints a signing key's public key. Exit codes: 0 ok (an unsigned tail is a
 * note, not a failure), 1 verification or replay failure (a bad or missing checkpoint or
 * signature included), 2 bad usage (unknown subcommand or flag, missing or unreadable log or key,
 * bad flag value).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../attestation/canonical-json.js';
import { readAttestationLog, type LogReadout } from '../attestation/durable-log.js';
import { AttestationError } from '../attestation/errors.js';
import { attestationQuerySchema, queryPredicate } from '../attestation/query.js';
import { InputError } from '../errors.js';
import { RegistrarReplayError } from '../registrar/errors.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { verify } from '../registrar/verify.js';
import { parseInput } from '../validation.js';
import type { CliCommand, CliIo } from './main.js';
import { checkSigned, publicKeyOfFile, SIGNED_HELP, SIGNED_OPTIONS, signedSummary, type SignedCheck, type SignedFlags } from './audit-signed.js';

const HELP = `Usage: voice-soundboard audit <verify|replay|query> <log.jsonl> [options]
       voice-soundboard audit public-key <private-key.pem>

Inspect a registrar attestation log (JSON Lines, one record per line).

Subcommands:
  verify <log>   check the SHA-256 hash chain and the structural invariants
                 (state.identity.*, state.lineage.*, ordering.*); reports a torn tail
  replay <log>   rebuild the registrar from the log, re-deciding every request;
                 prints the streams, overrides and the state hash
  query <log>    print the records that match every given filter, as JSON Lines
${SIGNED_HELP.subcommand}

Options:
  --replay             verify: also replay (checks ordering.deterministic)
  --snapshot <file>    verify/replay: the registrar snapshot (JSON) the log continues
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

function readLog(path: string): LogReadout {
  return readAttestationLog(path);
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

function runVerify(path: string, readout: LogReadout, values: Values, io: CliIo): number {
  const snapshot = readSnapshot(values.snapshot);
  const start = startOf(snapshot);
  const flags = signedFlags(values);
  const signed: SignedCheck | null = flags ? checkSigned(path, flags, start, snapshot) : null;
  const report = verify(readout.records, { ...(start ? { start } : {}), replay: values.replay === true, ...(snapshot !== undefined ? { snapshot } : {}) });
  const problems = [...report.errors, ...(signed?.problems ?? [])];
  if (readout.corrupt) problems.push({ seq: readout.corrupt.line, invariant: 'attestation.schema', message: readout.corrupt.message });
  if (readout.tornTail) {
    problems.push({ seq: (readout.records.at(-1)?.seq ?? 0) + 1, invariant: 'attestation.torn_tail', message: `torn tail: ${readout.tornTail.lengthBytes} bytes at offset ${readout.tornTail.offsetBytes} are a partial record` });
  }
  const ok = problems.length === 0;
  problems.sort((a, b) => a.seq - b.seq);
  const firstBadSeq = problems[0]?.seq ?? null;
  if (values.json === true) {
    const signature = signed ? { signature: signed.report.signature, signatureWarnings: signed.report.warnings } : {};
    write(io.stdout, JSON.stringify({ ok, records: report.records, firstBadSeq, errors: problems, warnings: report.warnings, tornTail: readout.tornTail, ...signature }));
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

function runReplay(path: string, readout: LogReadout, values: Values, io: CliIo): number {
  if (readout.corrupt || readout.tornTail) {
    write(io.stderr, `cannot replay: ${readout.corrupt ? readout.corrupt.message : `torn tail (${readout.tornTail?.lengthBytes ?? 0} bytes at offset ${readout.tornTail?.offsetBytes ?? 0})`}`);
    return 1;
  }
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
  try {
    registrar = snapshot !== undefined ? AudioRegistrar.restore(snapshot, readout.records) : AudioRegistrar.replay(readout.records);
  } catch (error) {
    if (error instanceof RegistrarReplayError) {
      write(io.stderr, `replay failed at seq ${error.seq} [${error.code}]: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const streams = registrar.listStates();
  const overrides = registrar.listOverrides();
  if (values.json === true) {
    write(io.stdout, JSON.stringify({ ok: true, lastSeq: registrar.attestationStore.lastSeq, stateHash: registrar.stateHash(), halted: registrar.halted, streams, overrides }));
    return 0;
  }
  write(io.stdout, `replayed ${readout.records.length} records to seq ${registrar.attestationStore.lastSeq}: every decision matches`);
  write(io.stdout, `state hash ${registrar.stateHash()}${registrar.halted ? ' (HALTED)' : ''}`);
  for (const stream of streams) write(io.stdout, `stream ${stream.streamId}  ${stream.state}  owner=${stream.owner ?? '-'}  v${stream.version}`);
  for (const override of overrides) write(io.stdout, `override ${override.scope}:${override.scopeId}  owner=${override.owner}`);
  return 0;
}

function runQuery(readout: LogReadout, values: Values, io: CliIo): number {
  const query = parseInput(
    attestationQuerySchema,
    Object.fromEntries(Object.entries({ actor: values.actor, action: values.action, target: values.target, decision: values.decision, since: values.since, until: values.until }).filter(([, value]) => value !== undefined)),
    'query',
  );
  const matches = readout.records.filter(queryPredicate(query));
  if (values.json === true) write(io.stdout, JSON.stringify(matches));
  else for (const record of matches) write(io.stdout, canonicalJson(record));
  if (readout.tornTail || readout.corrupt) write(io.stderr, `note: the log ${readout.tornTail ? 'ends in a torn record' : `is corrupt (${readout.corrupt?.message ?? ''})`}; only complete records before it were searched`);
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
    let readout: LogReadout;
    try {
      readout = readLog(path);
    } catch (error) {
      if (error instanceof AttestationError) return usageError(io, error.message);
      throw error;
    }
    try {
      if (subcommand === 'verify') return runVerify(path, readout, parsed.values, io);
      if (subcommand === 'replay') return runReplay(path, readout, parsed.values, io);
      return runQuery(readout, parsed.values, io);
    } catch (error) {
      if (error instanceof InputError) return usageError(io, error.message);
      throw error;
    }
  },
};
