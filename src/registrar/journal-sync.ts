/**
 * Reading a shared core's journal gap-free, and turning a journal entry (integers) back into the
 * text of an attestation when no better text exists.
 *
 * The log writer drains the journal in seq order (`drainJournal`): each seq another thread
 * decided comes with the body that thread posted (shared-core.ts), or, when none was posted (a
 * decider that is not a registrar) or the poster never came (a thread that died between deciding
 * and posting, given up after `stallMs`), the text is rebuilt from the entry (`foreignDecision`,
 * metadata.origin "journal").
 */
import { ACTOR_KINDS, HALT_CAUSES, NO_ID, REASON_CODES, type DecisionCore, type JournalEntry } from './core.js';
import { actionName, ownerKey, type DecisionContext } from './decision-record.js';
import { RegistrarHaltedError } from './errors.js';
import { PREEMPTION_RULE_ID } from './invariants.js';
import { foreignRequestMetadata } from './registrar-support.js';
import { toActor, type Actor } from './request-schema.js';
import type { SharedLogCore } from './shared-core.js';

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
  const parameters = entry.request && action && !capacity ? { metadata: journalRequestMetadata(core, action, entry) } : {};
  const context: DecisionContext = { actor, action, target };
  const requestMetadata = parameters.metadata as { scope?: unknown; scopeId?: unknown } | undefined;
  // Override actions name their override, as this thread's own attestations do.
  if (action?.endsWith('_override') && requestMetadata) context.subject = `override ${String(requestMetadata.scope)}:${String(requestMetadata.scopeId)}`;
  return { context, parameters, metadata, observed: entry.kind === 1 };
}

/** The request metadata a journal entry carries as text, with its grant set and override values. */
function journalRequestMetadata(core: DecisionCore, action: string, entry: JournalEntry): Record<string, unknown> {
  const request = entry.request;
  if (!request) return {};
  const metadata: Record<string, unknown> = { ...foreignRequestMetadata(core, action, request) };
  const grants = request.grants ?? NO_ID;
  if ((action === 'start' || action === 'claim' || action === 'compile') && grants >= 0) {
    metadata.allowPlugins = JSON.parse(core.scopeKey(2, grants)) as string[];
  }
  const values = request.values ?? NO_ID;
  if ((action === 'enable_override' || action === 'update_override') && values >= 0) {
    Object.assign(metadata, JSON.parse(core.scopeKey(3, values)) as Record<string, unknown>);
  }
  return metadata;
}

/** The cause named by a halt entry (kind 3). */
export function haltCauseOf(entry: JournalEntry): string {
  return HALT_CAUSES[entry.haltCause ?? -1] ?? 'structural';
}

/** How to drain the journal. */
export interface JournalDrainOptions {
  /** The next seq needed (the store's head + 1), read again after every entry. */
  nextSeq: () => number;
  /** Drain up to and including this seq; MAX_SAFE_INTEGER means "whatever is complete now". */
  upToSeq: number;
  batchEntries: number;
  /** How long to wait for another thread to complete a seq, or to post its body. */
  stallMs: number;
  /** The writer's shared core, to take posted bodies from; null when no thread posts any. */
  bodies: SharedLogCore | null;
  /** Wait (bounded by stallMs) for seqs and bodies still in flight; false: return at the first. */
  block: boolean;
  /** Without `block`: bodies of seqs up to this one that are still not posted are given up now. */
  abandonUpTo?: number;
  /** Blocks the thread for at most `timeoutMs` or until something may have changed (a ring). */
  pause: (timeoutMs: number) => void;
  /** Writes one entry (the store's head then moves past it); `body` is the posted text or null. */
  onEntry: (entry: JournalEntry, body: string | null) => void;
  /** Called after each batch written (the writer tells the core how far it drained). */
  afterBatch?: () => void;
  /** Called before throwing when the journal no longer holds a needed seq. */
  onOverrun: () => void;
}

/** What a drain did: how many entries it wrote, and the seq it stopped at waiting (or null). */
export interface DrainResult {
  written: number;
  /** Without `block`: the seq whose completion or body is still awaited, else null. */
  waitingFor: number | null;
}

/**
 * Feeds journal entries (with their bodies) to `onEntry` in seq order without gaps. With `block`,
 * a seq still being decided, or whose body is not posted yet, is waited for up to `stallMs`
 * (then its body is given up and it is written from the journal; a seq never completed throws).
 */
export function drainJournal(core: DecisionCore, options: JournalDrainOptions): DrainResult {
  let written = 0;
  let stalledSeq = 0;
  let stalledSince = 0;
  while (options.nextSeq() <= options.upToSeq) {
    const from = options.nextSeq();
    const want = Math.min(options.batchEntries, options.upToSeq - from + 1);
    const entries = core.readJournal(from, want);
    // The writer's close fence ends the log: nothing at or after it is written.
    const fence = entries.findIndex((entry) => entry.kind === 4);
    if (fence >= 0) {
      entries.length = fence;
      if (fence === 0) return { written, waitingFor: null };
    }
    if (entries.length > 0 && entries[0]?.seq !== from) {
      // The journal ring dropped seqs this store never attested: the log can no longer be gap-free.
      options.onOverrun();
      throw new RegistrarHaltedError(
        `the core's journal no longer holds seq ${from} (oldest is ${entries[0]?.seq ?? '?'}): this registrar cannot attest gap-free and halted`,
      );
    }
    let bodies: (string | null)[] | null = null;
    if (options.bodies !== null && entries.length > 0) {
      const giveUp = options.block ? (stalledSeq === from && Date.now() - stalledSince > options.stallMs ? from : 0) : (options.abandonUpTo ?? 0);
      bodies = options.bodies.takeBodies(from, entries.length, giveUp);
    }
    const ready = bodies === null ? entries.length : bodies.length;
    for (let index = 0; index < ready; index += 1) {
      options.onEntry(entries[index] as JournalEntry, bodies === null ? null : (bodies[index] ?? null));
      written += 1;
    }
    if (ready > 0) options.afterBatch?.();
    if (ready === want) continue;
    // Stopped at `next`: its entry is not published yet (or nothing more was decided), or its body
    // is not posted yet.
    const next = options.nextSeq();
    const bodyMissing = ready < entries.length;
    if (!bodyMissing && options.upToSeq === Number.MAX_SAFE_INTEGER) return { written, waitingFor: next <= core.lastSeq() ? next : null };
    if (!options.block) return { written, waitingFor: next };
    if (stalledSeq !== next) {
      stalledSeq = next;
      stalledSince = Date.now();
    } else if (!bodyMissing && Date.now() - stalledSince > options.stallMs) {
      throw new RegistrarHaltedError(`seq ${next} was not completed by another thread within ${options.stallMs} ms`);
    }
    options.pause(bodyMissing ? 1 : 0.05); // a body being posted, or a claim being published
  }
  return { written, waitingFor: null };
}
