/**
 * Attesting decisions other threads made on a shared core: reading the core's journal gap-free
 * and turning a journal entry (integers) back into the text of an attestation.
 */
import { ACTOR_KINDS, NO_ID, REASON_CODES, type DecisionCore, type JournalEntry } from './core.js';
import { actionName, ownerKey, type DecisionContext } from './decision-record.js';
import { RegistrarHaltedError } from './errors.js';
import { PREEMPTION_RULE_ID } from './invariants.js';
import { foreignRequestMetadata } from './registrar-support.js';
import { toActor, type Actor } from './request-schema.js';

/** What an attestation of another thread's decision is written from. */
export interface ForeignDecision {
  context: DecisionContext;
  parameters: Record<string, unknown>;
  metadata: Record<string, unknown>;
  observed: boolean;
}

/** The attestation text of a journaled decision (kind 0 decide or 1 evaluate). */
export function foreignDecision(core: DecisionCore, entry: JournalEntry): ForeignDecision {
  const key = entry.actor === NO_ID ? null : core.actorKey(entry.actor);
  const kind = ACTOR_KINDS[entry.actorKind] ?? 'agent';
  const actor: Actor = key ? toActor(key as `${typeof kind}:${string}`) : { id: '(unregistered)', kind };
  const action = actionName(entry.action);
  const stream = entry.stream !== NO_ID ? entry.stream : entry.target;
  // A capacity denial names an id the core could not intern (FULL_ID): no key to write.
  const target = stream >= 0 ? core.streamKey(stream) : null;
  const metadata: Record<string, unknown> = { origin: 'journal' };
  if (entry.kind === 1) metadata.observed = true;
  if (entry.request) metadata.pluginAllowed = entry.request.pluginAllowed;
  if (entry.allowed && entry.stateBefore === -1 && entry.stream !== NO_ID) metadata.created = true;
  if (entry.allowed && action === 'transfer') metadata.transferredFrom = ownerKey(core, entry.ownerBefore);
  if (entry.preemption) {
    Object.assign(metadata, { preemption: PREEMPTION_RULE_ID, preemptFor: entry.request ? core.streamKey(entry.request.preemptFor) : null });
  }
  if (entry.halted && entry.kind === 0) Object.assign(metadata, { halt: true, haltCause: 'accessibility_bypass' });
  const capacity = entry.reason === REASON_CODES.indexOf('capacity_exhausted');
  const parameters = entry.request && action && !capacity ? { metadata: foreignRequestMetadata(core, action, entry.request) } : {};
  const context: DecisionContext = { actor, action, target };
  const requestMetadata = parameters.metadata as { scope?: unknown; scopeId?: unknown } | undefined;
  // Override actions name their override, as this thread's own attestations do.
  if (action?.endsWith('_override') && requestMetadata) context.subject = `override ${String(requestMetadata.scope)}:${String(requestMetadata.scopeId)}`;
  return { context, parameters, metadata, observed: entry.kind === 1 };
}

/** How to read the journal. */
export interface JournalReadOptions {
  /** The next seq the store needs (its head + 1), read again after every batch. */
  nextSeq: () => number;
  /** Read up to and including this seq; MAX_SAFE_INTEGER means "whatever is complete now". */
  upToSeq: number;
  batchEntries: number;
  /** How long to wait for another thread to complete a seq. */
  stallMs: number;
  /** Attests one entry (the store's head then moves past it). */
  onEntry: (entry: JournalEntry) => void;
  /** Called before throwing when the journal no longer holds a needed seq. */
  onOverrun: () => void;
}

/** Feeds journal entries to `onEntry` in seq order without gaps; returns how many. */
export function readJournalGapFree(core: DecisionCore, options: JournalReadOptions): number {
  let written = 0;
  const deadline = Date.now() + options.stallMs;
  const waitCell = new Int32Array(new SharedArrayBuffer(4));
  while (options.nextSeq() <= options.upToSeq) {
    const from = options.nextSeq();
    const want = Math.min(options.batchEntries, options.upToSeq - from + 1);
    const entries = core.readJournal(from, want);
    if (entries.length > 0 && entries[0]?.seq !== from) {
      // The journal ring dropped seqs this store never attested: the log can no longer be gap-free.
      options.onOverrun();
      throw new RegistrarHaltedError(
        `the core's journal no longer holds seq ${from} (oldest is ${entries[0]?.seq ?? '?'}): this registrar cannot attest gap-free and halted; call syncJournal() more often or enlarge the journal`,
      );
    }
    for (const entry of entries) {
      options.onEntry(entry);
      written += 1;
    }
    if (options.upToSeq === Number.MAX_SAFE_INTEGER && entries.length < want) return written;
    if (entries.length === 0) {
      if (Date.now() > deadline) throw new RegistrarHaltedError(`seq ${from} was not completed by another thread within ${options.stallMs} ms`);
      Atomics.wait(waitCell, 0, 0, 0.05); // another thread is between taking the seq and journaling it
    }
  }
  return written;
}
