/**
 * The MCP tools' handlers, each acting only through its session's agent (agent-session.ts): every
 * stream change is a registrar request as that agent, reads show only the agent's own streams and
 * records, and each call is counted by the per-agent RateLimiter first. Every handler returns a
 * structured result (schemas.ts); a denial, a rate limit or bad input found past the schema is a
 * result with `success: false`, never a thrown error.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InputError, VoiceSoundboardError } from '../errors.js';
import { RegistrarDeniedError, RegistrarHaltedError } from '../registrar/errors.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { RegistrarResult, StreamView } from '../registrar/types.js';
import type { Attestation } from '../attestation/record.js';
import type { VoiceCatalogue } from '../backends/catalogue.js';
import type { AuditContext, AuditLogger } from '../security/audit-log.js';
import type { RateLimiter } from '../security/rate-limiter.js';
import type { Heard } from '../streaming/heard.js';
import type { AgentSession, TrackedPlay } from './agent-session.js';
import { playDialogue, type DialogueLine } from './dialogue.js';
import { MCP_LIMITS, type ToolResult } from './schemas.js';

/** What every handler works with. */
export interface ToolContext {
  session: AgentSession;
  registrar: AudioRegistrar;
  limiter: RateLimiter;
  /** The registrar schema version negotiated with this client. */
  schemaVersion: () => string;
  catalogue: () => Promise<VoiceCatalogue>;
  /** How long `interrupt` waits for the cut stream to report what was heard, in ms. */
  heardWaitMs: number;
  /** Concurrent streams at most: of this session, and of all sessions (counted by `allActive`). */
  streamCaps: { perSession: number; allAgents: number; allActive: () => number };
  /** Where rate-limit refusals and registrar denials are logged (the server's `audit` option). */
  audit?: AuditLogger;
}

/** Who a tool call is, for the audit log: the MCP session and its agent. */
function auditContext(context: ToolContext): AuditContext {
  return { client: context.session.sessionId, actor: context.session.actor.key };
}

/** A result as the client gets it: structured content and one short readable line. */
function reply(context: ToolContext, fields: Partial<ToolResult> & Pick<ToolResult, 'success'>, text: string): CallToolResult {
  const structured: ToolResult = {
    decision: fields.success ? 'allowed' : 'denied',
    reason: null,
    attestation_id: null,
    retry_after: null,
    stream_id: null,
    ...fields,
    schema_version: context.schemaVersion(),
  };
  return { structuredContent: structured, content: [{ type: 'text', text }] };
}

/** A refusal that is no registrar decision (rate limit, bad input, nothing to act on). */
function refuse(context: ToolContext, reason: string, message: string, extra: Partial<ToolResult> = {}): CallToolResult {
  return reply(context, { success: false, reason, message, ...extra }, `denied (${reason}): ${message}`);
}

/**
 * A denial's message as an agent may read it: the registrar's names the stream's owner on
 * `not_owner`, another agent the caller has no business knowing (its id also names its session).
 */
function denialMessage(context: ToolContext, reason: string | null, message: string, target: string | null): string {
  if (reason !== 'not_owner') return message;
  return `stream ${target ?? ''} belongs to another actor: ${context.session.actor.key} may act only on its own streams`;
}

/** A registrar decision as a result. */
function decided(context: ToolContext, result: RegistrarResult, extra: Partial<ToolResult>, what: string): CallToolResult {
  context.audit?.registrarDecision(result, auditContext(context));
  const message = denialMessage(context, result.reason, result.message, result.streamId);
  const fields = { success: result.allowed, decision: result.decision, reason: result.reason, attestation_id: result.attestation.id, stream_id: result.streamId, ...(result.allowed ? {} : { message }), ...extra };
  return reply(context, fields, result.allowed ? what : `denied (${result.reason ?? 'denied'}): ${message}`);
}

/** An error thrown by the engine as a result: input errors name their field; denials keep their reason. */
function failed(context: ToolContext, error: unknown, streamId: string | null = null): CallToolResult {
  if (error instanceof InputError) return refuse(context, 'invalid_input', error.message, { ...(error.field ? { field: error.field } : {}), stream_id: streamId });
  if (error instanceof RegistrarDeniedError) {
    const record = context.registrar.attestationStore.bySeq(error.seq);
    context.audit?.registrarDenial(record ?? null, { ...auditContext(context), reason: error.reason ?? 'denied', message: error.message, ...(streamId !== null ? { streamId } : {}) });
    return refuse(context, error.reason ?? 'denied', denialMessage(context, error.reason ?? null, error.message, streamId), { attestation_id: record?.id ?? null, stream_id: streamId });
  }
  if (error instanceof RegistrarHaltedError) return refuse(context, 'registrar_halted', error.message, { stream_id: streamId });
  const code = error instanceof VoiceSoundboardError ? error.code.toLowerCase() : 'internal_error';
  return refuse(context, code, error instanceof Error ? error.message : String(error), { stream_id: streamId });
}

/** An unexpected error of a handler as a result (the server goes on). */
export function unexpected(context: ToolContext, error: unknown): CallToolResult {
  return failed(context, error);
}

/** Counts the call against the agent's budget; a refusal as a result, or null when it may go on. */
function limited(context: ToolContext, chars = 0): CallToolResult | null {
  const decision = context.limiter.check(context.session.actor.key, { chars });
  if (decision.allowed) return null;
  context.audit?.rateLimited({ ...auditContext(context), limit: decision.limit ?? 'requests', retryAfterMs: decision.retryAfterMs });
  const seconds = Number.isFinite(decision.retryAfterMs) ? Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) : null;
  const message = seconds === null ? `the ${decision.limit ?? 'request'} budget of one window is smaller than this call` : `too many ${decision.limit ?? 'requests'}; retry after ${seconds} s`;
  return refuse(context, 'rate_limited', message, { retry_after: seconds });
}

/** A refusal when one more stream (`freed` of the session's about to end) would pass a stream cap, or null. */
function crowded(context: ToolContext, freed = 0): CallToolResult | null {
  const { perSession, allAgents, allActive } = context.streamCaps;
  const mine = context.session.activeCount() - freed;
  if (mine >= perSession) return refuse(context, 'too_many_streams', `this agent has ${mine} stream(s) playing, at most ${perSession} at once: interrupt one or wait for one to end`);
  const all = allActive() - freed;
  if (all >= allAgents) return refuse(context, 'too_many_streams', `agents have ${all} streams playing, at most ${allAgents} at once: wait for one to end`);
  return null;
}

/** `heard` as the tools report it. */
function heardOf(heard: Heard | null): { text: string; played_ms: number; cut_at_ms: number | null } | null {
  return heard ? { text: heard.text, played_ms: Math.round(heard.playedMs), cut_at_ms: heard.cutAtMs === null ? null : Math.round(heard.cutAtMs) } : null;
}

/** Waits for a play to end, at most `ms`; null when it did not. */
async function endOf(play: TrackedPlay, ms: number): Promise<Heard | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    const ended = await Promise.race([play.done, timeout]);
    return ended === null ? null : (ended.result?.heard ?? play.heard);
  } finally {
    clearTimeout(timer);
  }
}

/** `speak { text, voice?, interrupt?, wait? }`. */
export async function speakTool(context: ToolContext, input: { text: string; voice?: string | undefined; interrupt?: boolean | undefined; wait?: boolean | undefined }): Promise<CallToolResult> {
  const refused = limited(context, input.text.length) ?? crowded(context, input.interrupt === true && context.session.current() ? 1 : 0);
  if (refused) return refused;
  const release = context.session.reserve();
  try {
    return await speakReserved(context, input, release);
  } finally {
    release();
  }
}

/** `speak` once its place under the stream caps is reserved (`release`d once its stream is tracked). */
async function speakReserved(context: ToolContext, input: { text: string; voice?: string | undefined; interrupt?: boolean | undefined; wait?: boolean | undefined }, release: () => void): Promise<CallToolResult> {
  let interrupted: string | null = null;
  if (input.interrupt === true) {
    const current = context.session.current();
    if (current) {
      const cut = await cutOwnStream(context, current.streamId, 'speak with interrupt', false);
      if (!cut.allowed) return withFields(cut.result, { interrupted_stream_id: current.streamId });
      interrupted = current.streamId;
    }
  }
  let play: TrackedPlay;
  try {
    play = await context.session.launch((engine, hooks) => engine.play(input.text, { ...hooks, ...(input.voice !== undefined ? { voice: input.voice } : {}) }));
  } catch (error) {
    return failed(context, error);
  } finally {
    release();
  }
  // It ended before its audio started (a backend failure, say): the result says why.
  if (play.settled) {
    const ended = await play.done;
    if (ended.error) return failed(context, ended.error, play.streamId);
  }
  const base = { success: true, stream_id: play.streamId, attestation_id: play.startAttestationId, interrupted_stream_id: interrupted };
  if (input.wait !== true) return reply(context, base, `speaking: stream ${play.streamId}`);
  const ended = await play.done;
  if (ended.error) return failed(context, ended.error, play.streamId);
  const heard = heardOf(ended.result?.heard ?? null);
  return reply(context, { ...base, attestation_id: context.registrar.getState(play.streamId)?.lastAttestation ?? base.attestation_id, heard }, `spoke stream ${play.streamId}${heard ? `: heard "${heard.text.slice(0, 80)}"` : ''}`);
}

/** `interrupt { stream_id? }`. */
export async function interruptTool(context: ToolContext, input: { stream_id?: string | undefined }): Promise<CallToolResult> {
  const refused = limited(context);
  if (refused) return refused;
  const target = input.stream_id ?? context.session.current()?.streamId;
  // Between two turns of a dialogue no stream plays: the dialogue itself is ended (no later turn starts).
  const between = input.stream_id === undefined && target === undefined ? context.session.dialogues().at(-1) : undefined;
  if (between) {
    const results = between.interrupt({ reason: 'interrupt tool' });
    const result = results.find((candidate) => candidate.allowed) ?? results[0];
    if (result) return decided(context, result, { heard: null }, `interrupted dialogue ${between.id}`);
    return reply(context, { success: true, conversation_id: between.id, heard: null }, `ended dialogue ${between.id} between two lines`);
  }
  if (target === undefined) return refuse(context, 'no_active_stream', 'this agent has no stream playing (pass stream_id to name one)');
  return (await cutOwnStream(context, target, 'interrupt tool', true)).result;
}

/**
 * Asks the registrar, as the session's agent, to interrupt `target`; with `waitHeard`, waits for
 * the cut play to say what was heard. A stream of the session that has not reached its audio yet
 * (a dialogue's next line being synthesized) is ended by aborting its play instead: the engine
 * then asks as the owner, and the decision is the record that request wrote.
 */
async function cutOwnStream(context: ToolContext, target: string, reason: string, waitHeard: boolean): Promise<{ allowed: boolean; result: CallToolResult }> {
  const play = context.session.play(target);
  const state = context.registrar.getState(target)?.state;
  if (play && !play.settled && (state === 'compiling' || state === 'synthesizing')) return abortBeforeAudio(context, play, waitHeard);
  const engine = await context.session.engine();
  const result = engine.interrupt(target, { reason });
  if (!result.allowed) return { allowed: false, result: decided(context, result, {}, '') };
  const heard = play && waitHeard ? heardOf(await endOf(play, context.heardWaitMs)) : null;
  return { allowed: true, result: decided(context, result, { heard }, `interrupted stream ${target}${heard ? `: heard "${heard.text.slice(0, 80)}"` : ''}`) };
}

/** `result` with more structured fields. */
function withFields(result: CallToolResult, fields: Record<string, unknown>): CallToolResult {
  return { ...result, structuredContent: { ...result.structuredContent, ...fields } };
}

/** Ends one of the session's streams before its audio by aborting its play; the result is the registrar's decision. */
async function abortBeforeAudio(context: ToolContext, play: TrackedPlay, waitEnd: boolean): Promise<{ allowed: boolean; result: CallToolResult }> {
  const store = context.registrar.attestationStore;
  const before = store.lastSeq;
  play.abort();
  const record = store.lastSeq > before ? store.bySeq(store.lastSeq) : undefined;
  const mine = record !== undefined && record.target === play.streamId && record.actor !== null && `${record.actor.kind}:${record.actor.id}` === context.session.actor.key;
  if (!mine) return { allowed: false, result: refuse(context, 'invalid_transition', `stream ${play.streamId} could not be ended before its audio`, { stream_id: play.streamId }) };
  const fields = { success: record.decision === 'allowed', decision: record.decision, reason: record.reason, attestation_id: record.id, stream_id: play.streamId };
  const message = denialMessage(context, record.reason, record.message, play.streamId);
  if (record.decision !== 'allowed') return { allowed: false, result: reply(context, { ...fields, message }, `denied (${record.reason ?? 'denied'}): ${message}`) };
  if (waitEnd) await endOf(play, context.heardWaitMs);
  return { allowed: true, result: reply(context, { ...fields, heard: null }, `ended stream ${play.streamId} before its audio`) };
}

/** A stream as the tools show it. */
function viewOf(state: StreamView): { stream_id: string; state: StreamView['state']; owner: string | null; session_id: string; priority: number; version: number; last_attestation: string | null } {
  return { stream_id: state.streamId, state: state.state, owner: state.owner, session_id: state.sessionId, priority: state.priority, version: state.version, last_attestation: state.lastAttestation };
}

/** `query_state { stream_id }`: one of the agent's own streams. */
export function queryStateTool(context: ToolContext, input: { stream_id: string }): CallToolResult {
  const refused = limited(context);
  if (refused) return refused;
  const state = context.registrar.getState(input.stream_id);
  if (!state) return refuse(context, 'unknown_stream', `no stream ${input.stream_id}`, { stream_id: input.stream_id });
  if (state.owner !== context.session.actor.key) return refuse(context, 'not_owner', `stream ${input.stream_id} belongs to another actor`, { stream_id: input.stream_id });
  return reply(context, { success: true, stream_id: state.streamId, attestation_id: state.lastAttestation, state: viewOf(state) }, `stream ${state.streamId}: ${state.state}`);
}

/** `list_streams {}`: the agent's own streams, most recent last. */
export function listStreamsTool(context: ToolContext): CallToolResult {
  const refused = limited(context);
  if (refused) return refused;
  const streams = context.session
    .plays()
    .slice(-MCP_LIMITS.maxStreams)
    .flatMap((play) => {
      const state = context.registrar.getState(play.streamId);
      return state ? [viewOf(state)] : [];
    });
  return reply(context, { success: true, streams }, `${streams.length} stream(s)`);
}

/** Records scanned at most by one `get_attestations` (the latest ones). */
const ATTESTATION_SCAN = 10_000;

/** Start-metadata fields an agent reads back of its own streams (nothing a host or registrar put there). */
const OWN_START_FIELDS = ['conversationId', 'conversationTurn', 'speaker', 'voice'] as const;

/** The conversation fields of one of the agent's own start records. */
function conversationFields(record: Attestation): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  const given = record.parameters.metadata;
  const metadata: Readonly<Record<string, unknown>> = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Readonly<Record<string, unknown>>) : {};
  for (const name of OWN_START_FIELDS) {
    const value = Object.hasOwn(metadata, name) ? metadata[name] : undefined;
    if (typeof value === 'string' || typeof value === 'number') fields[name] = value;
  }
  return fields;
}

/** `get_attestations { stream_id?, limit? }`: records of the agent's own requests and streams. */
export function getAttestationsTool(context: ToolContext, input: { stream_id?: string | undefined; limit?: number | undefined }): CallToolResult {
  const refused = limited(context);
  if (refused) return refused;
  const key = context.session.actor.key;
  if (input.stream_id !== undefined && context.session.play(input.stream_id) === undefined && context.registrar.getState(input.stream_id)?.owner !== key) {
    return refuse(context, 'not_owner', `stream ${input.stream_id} is not one of this agent's streams`, { stream_id: input.stream_id });
  }
  const limit = input.limit ?? 50;
  const store = context.registrar.attestationStore;
  const from = Math.max(store.chainStart.seq + 1, store.lastSeq - ATTESTATION_SCAN + 1);
  const mine = (record: Attestation): boolean => {
    if (input.stream_id !== undefined) return record.target === input.stream_id;
    const actor = record.actor ? `${record.actor.kind}:${record.actor.id}` : null;
    return actor === key || (record.target !== null && context.session.play(record.target) !== undefined);
  };
  const found: Attestation[] = [];
  for (const record of store.records(from)) {
    if (!mine(record)) continue;
    found.push(record);
    if (found.length > limit) found.shift();
  }
  const attestations = found.map((record) => ({
    id: record.id,
    seq: record.seq,
    actor: record.actor ? `${record.actor.kind}:${record.actor.id}` : null,
    action: record.action,
    target: record.target,
    decision: record.decision,
    reason: record.reason,
    timestamp: record.timestamp.wall,
    ...(record.action === 'start' && record.actor !== null && `${record.actor.kind}:${record.actor.id}` === key ? { metadata: conversationFields(record) } : {}),
  }));
  return reply(context, { success: true, stream_id: input.stream_id ?? null, attestations }, `${attestations.length} attestation(s)`);
}

/** `list_voices { language?, backend? }`. */
export async function listVoicesTool(context: ToolContext, input: { language?: string | undefined; backend?: string | undefined }): Promise<CallToolResult> {
  const refused = limited(context);
  if (refused) return refused;
  try {
    const catalogue = await context.catalogue();
    const found = await catalogue.voices({ ...(input.language !== undefined ? { language: input.language } : {}), ...(input.backend !== undefined ? { backend: input.backend } : {}) });
    const voices = found.slice(0, MCP_LIMITS.maxVoices).map((voice) => ({ id: voice.id, backend: voice.backend, name: voice.name, languages: voice.languages, ...(voice.gender ? { gender: voice.gender } : {}) }));
    return reply(context, { success: true, voices }, `${voices.length} voice(s)`);
  } catch (error) {
    return failed(context, error);
  }
}

/** `dialogue { lines }`: the lines play in order as the agent's streams; returns once the first started. */
export async function dialogueTool(context: ToolContext, input: { lines: DialogueLine[] }): Promise<CallToolResult> {
  const refused = limited(context, input.lines.reduce((sum, line) => sum + line.text.length, 0)) ?? crowded(context);
  if (refused) return refused;
  const release = context.session.reserve();
  try {
    const started = await playDialogue(context.session, input.lines);
    context.session.dialogueStarted(started.conversation, started.done);
    release();
    return reply(
      context,
      { success: true, stream_id: started.first.streamId, attestation_id: started.first.startAttestationId, conversation_id: started.conversationId, stream_ids: [started.first.streamId] },
      `dialogue ${started.conversationId}: ${input.lines.length} line(s), first stream ${started.first.streamId}`,
    );
  } catch (error) {
    return failed(context, error);
  } finally {
    release();
  }
}
