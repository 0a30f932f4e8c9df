/**
 * `voice-soundboard audit verify|replay|query <log>`: inspects a durable attestation log (JSON
 * Lines). Exit codes: 0 ok, 1 verification or replay failure, 2 bad usage (unknown subcommand or
 * flag, missing or unreadable log, bad flag value).
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

const HELP = `Usage: voice-soundboard audit <verify|replay|query> <log.jsonl> [options]

Inspect a registrar attestation log (JSON Lines, one record per line).

Subcommands:
  verify <log>   check the SHA-256 hash chain and the structural invariants
                 (state.identity.*, state.lineage.*, ordering.*); reports a torn tail
  replay <log>   rebuild the registrar from the log, re-deciding every request;
                 prints the streams, overrides and the state hash
  query <log>    print the records that match every given filter, as JSON Lines

Options:
  --replay             verify: also replay (checks ordering.deterministic)
  --snapshot <file>    verify/replay: the registrar snapshot (JSON) the log continues
  --actor <kind:id>    query: by actor ("agent:claude-1" or a bare id)
  --action <action>    query: by action (start, interrupt, ...)
  --target <stream>    query: by stream id
  --decision <d>       query: allowed | denied
  --since <iso>        query: at or after this time (ISO 8601)
  --until <iso>        query: before this time (ISO 8601)
  --json               machine-readable output
  -h, --help           show this help

Exit codes: 0 ok, 1 verification or replay failure, 2 bad usage.
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

function runVerify(readout: LogReadout, values: Values, io: CliIo): number {
  const snapshot = readSnapshot(values.snapshot);
  const head = snapshot as { lastSeq?: number; lastHash?: string } | undefined;
  const start = head && typeof head.lastSeq === 'number' && typeof head.lastHash === 'string' ? { seq: head.lastSeq, hash: head.lastHash } : undefined;
  const report = verify(readout.records, { ...(start ? { start } : {}), replay: values.replay === true, ...(snapshot !== undefined ? { snapshot } : {}) });
  const problems = [...report.errors];
  if (readout.corrupt) problems.push({ seq: readout.corrupt.line, invariant: 'attestation.schema', message: readout.corrupt.message });
  if (readout.tornTail) {
    problems.push({ seq: (readout.records.at(-1)?.seq ?? 0) + 1, invariant: 'attestation.torn_tail', message: `torn tail: ${readout.tornTail.lengthBytes} bytes at offset ${readout.tornTail.offsetBytes} are a partial record` });
  }
  const ok = problems.length === 0;
  if (values.json === true) {
    write(io.stdout, JSON.stringify({ ok, records: report.records, errors: problems, warnings: report.warnings, tornTail: readout.tornTail }));
  } else {
    for (const problem of problems) write(io.stderr, `error  seq ${problem.seq}  ${problem.invariant}: ${problem.message}`);
    for (const warning of report.warnings) write(io.stdout, `warn   seq ${warning.seq}  ${warning.invariant}: ${warning.message}`);
    if (ok) write(io.stdout, `ok: ${report.records} records, hash chain intact, structural invariants hold${values.replay === true ? ', replay deterministic' : ''}`);
    else write(io.stderr, `FAILED: ${problems.length} problem(s) in ${report.records} records`);
  }
  return ok ? 0 : 1;
}

function runReplay(readout: LogReadout, values: Values, io: CliIo): number {
  if (readout.corrupt || readout.tornTail) {
    write(io.stderr, `cannot replay: ${readout.corrupt ? readout.corrupt.message : `torn tail (${readout.tornTail?.lengthBytes ?? 0} bytes at offset ${readout.tornTail?.offsetBytes ?? 0})`}`);
    return 1;
  }
  const snapshot = readSnapshot(values.snapshot);
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
    if (subcommand === undefined) return usageError(io, 'missing subcommand (verify, replay or query)');
    if (!['verify', 'replay', 'query'].includes(subcommand)) return usageError(io, `unknown subcommand "${subcommand}" (expected verify, replay or query)`);
    if (path === undefined) return usageError(io, `${subcommand}: missing the log file`);
    if (extra.length > 0) return usageError(io, `${subcommand}: unexpected argument "${extra[0] ?? ''}"`);
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
      if (subcommand === 'verify') return runVerify(readout, parsed.values, io);
      if (subcommand === 'replay') return runReplay(readout, parsed.values, io);
      return runQuery(readout, parsed.values, io);
    } catch (error) {
      if (error instanceof InputError) return usageError(io, error.message);
      throw error;
    }
  },
};
