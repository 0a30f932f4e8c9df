/**
 * `createMcpServer({ engine, registrar })`: the MCP face of a host's engine. Each connected
 * transport is one MCP session, its own `McpServer` and its own registered agent actor
 * (agent-session.ts); the tools (tools.ts) act only as that agent. The host keeps its own actors
 * (users with accessibility overrides, the system) and the registrar decides between them all.
 * Version: the server states registrar schema 2.9.0 in its instructions and capabilities, and
 * answers the version a client asks for in `capabilities.experimental['voice-soundboard']
 * .schemaVersion` with the registrar's `negotiateVersion` (in every result's `schema_version`).
 */
import { randomUUID } from 'node:crypto';
import { packageVersion } from '../package-version.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { VoiceCatalogue } from '../backends/catalogue.js';
import { BackendRegistry } from '../backends/registry.js';
import { VoiceEngine } from '../engine/voice-engine.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { negotiateVersion, REGISTRAR_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS } from '../registrar/version.js';
import { AuditLogger } from '../security/audit-log.js';
import { RateLimiter, rateLimiterOptionsSchema } from '../security/rate-limiter.js';
import { schedulePolicySchema } from '../streaming/schedule-policy.js';
import { parseInput } from '../validation.js';
import { AgentSession, sanitiseClientName, type StreamNotice } from './agent-session.js';
import * as schemas from './schemas.js';
import * as tools from './tools.js';

/** The name under which a client asks for a schema version (client capabilities, `experimental`). */
export const MCP_EXTENSION = 'voice-soundboard';

/** The logger the server reports to (pino-compatible; never stdout, which is the stdio protocol). */
export interface McpLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Default pace of one session's requests, whatever their method (`protocolRateLimit`). */
export const MCP_PROTOCOL_RATE = Object.freeze({ requestsPerWindow: 100, windowMs: 10_000 });

/** Default caps of concurrent agent streams (see `maxStreamsPerSession`, `maxAgentStreams`). */
export const MCP_STREAM_CAPS = Object.freeze({ perSession: 4, allAgents: 32 });

/** Schema of `createMcpServer(options)`. */
export const mcpServerOptionsSchema = z.strictObject({
  /** The host's engine: sessions speak with its backend on its device (`engine.forActor`). */
  engine: z.instanceof(VoiceEngine),
  /** The registrar deciding the engine's streams (the same one the engine was given). */
  registrar: z.instanceof(AudioRegistrar),
  /** Per-agent rate limits (a RateLimiter, or its options; default 60 calls and 100,000 characters per minute). */
  rateLimit: z.union([z.instanceof(RateLimiter), rateLimiterOptionsSchema.partial()]).optional(),
  /**
   * Pace of every request of one session, whatever its method (tools/list, ping, tool calls...): a
   * RateLimiter (keyed per session) or its options; default 100 requests per 10 s. Past it a request
   * is answered with a JSON-RPC error (-32000, `data: { reason: 'rate_limited', retry_after_ms }`):
   * a client flooding cheap requests would otherwise hold the event loop every session's decisions
   * and the device's feed run on (a tools/list costs the server about 0.7 ms).
   */
  protocolRateLimit: z.union([z.instanceof(RateLimiter), rateLimiterOptionsSchema.partial()]).optional(),
  /**
   * How an agent's speech meets the speech already playing (docs/ENGINE.md, "Scheduling"). Default
   * `mix`: `speak` starts at once. With `queue` a `speak` returns when its turn comes (the client's
   * request timeout may end the wait first).
   */
  policy: schedulePolicySchema.default('mix'),
  /**
   * Streams one session may have at once (a dialogue counts once; default 4): beyond, `speak` and
   * `dialogue` are refused with `too_many_streams`. The device mixes at most 64 voices for everyone.
   */
  maxStreamsPerSession: z.number().int().min(1).max(64).default(MCP_STREAM_CAPS.perSession),
  /** Streams of all sessions together at most (default 32): the rest of the device's 64 voices stay the host's (its users). */
  maxAgentStreams: z.number().int().min(1).max(64).default(MCP_STREAM_CAPS.allAgents),
  /** Server name told to clients. */
  name: z.string().min(1).max(100).default('voice-soundboard'),
  /** How long `interrupt` waits for the cut stream's `heard`, in ms (default 10,000). */
  heardWaitMs: z.number().int().min(0).max(600_000).default(10_000),
  /** Where the server logs sessions and refusals (default: nowhere). */
  logger: z.custom<McpLogger>((value) => typeof value === 'object' && value !== null && typeof (value as McpLogger).info === 'function' && typeof (value as McpLogger).warn === 'function', 'expected a logger with info() and warn()').optional(),
  /** Security audit log (docs/SECURITY.md): every rate-limit refusal and every registrar denial a tool gets. */
  audit: z.instanceof(AuditLogger).optional(),
});

/** What callers may pass to `createMcpServer`. */
export type McpServerOptions = z.input<typeof mcpServerOptionsSchema>;

/** A connected session as the host sees it. */
export interface McpSessionInfo {
  sessionId: string;
  /** The session's agent actor, `"agent:<client>#<session>"` (known once the client called a tool). */
  actor: string | null;
}

/** The package version, told to clients as the server's version. */

/** The instructions every client reads at initialization. */
const INSTRUCTIONS = [
  `Voice Soundboard speaks text aloud under a registrar (state schema ${REGISTRAR_SCHEMA_VERSION}).`,
  'You are one agent: you can interrupt only your own streams; a user accessibility override may refuse you.',
  'Every result has { success, decision, reason, attestation_id, retry_after, stream_id }; a denial is a normal result with success false.',
  `Ask for a schema version with capabilities.experimental["${MCP_EXTENSION}"].schemaVersion (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}).`,
].join(' ');

/** The MCP server of one host: one MCP session per connected transport. */
export class VoiceMcpServer {
  readonly #options: z.output<typeof mcpServerOptionsSchema>;
  readonly #limiter: RateLimiter;
  readonly #protocolLimiter: RateLimiter;
  /** Sessions connected so far: each one's key in the protocol limiter, after this server's own prefix (a limiter given to two servers keeps their sessions apart). */
  #connections = 0;
  readonly #paceKeyPrefix = randomUUID();
  readonly #sessions = new Map<string, { session: AgentSession; mcp: McpServer }>();
  /** The session part of every agent actor id registered by a closed session (sanitised): never given out again. */
  readonly #servedIds = new Set<string>();
  #catalogue: Promise<VoiceCatalogue> | null = null;
  #closed = false;

  /** Validates options (InputError naming the field); see `createMcpServer`. */
  constructor(options: McpServerOptions) {
    this.#options = parseInput(mcpServerOptionsSchema, options, 'McpServerOptions');
    const { engine, registrar, rateLimit } = this.#options;
    // The engine's actor must be this registrar's: otherwise sessions would speak under another authority.
    if (!registrar.issued(engine.actor)) {
      throw new InputError('McpServerOptions.registrar: not the registrar of McpServerOptions.engine (pass the one given to new VoiceEngine({ registrar }))', { field: 'registrar' });
    }
    this.#limiter = rateLimit instanceof RateLimiter ? rateLimit : new RateLimiter(rateLimit ?? {});
    // The caller's own fields over this pace's defaults (the parsed options carry RateLimiter's defaults, a minute's window).
    const pace = options.protocolRateLimit;
    this.#protocolLimiter = pace instanceof RateLimiter ? pace : new RateLimiter({ ...MCP_PROTOCOL_RATE, ...pace });
  }

  /** Sessions connected now. */
  sessions(): McpSessionInfo[] {
    return [...this.#sessions.values()].map(({ session }) => ({ sessionId: session.sessionId, actor: session.registered ? session.actor.key : null }));
  }

  /**
   * Serves one MCP session over `transport` (stdio, Streamable HTTP, in-memory). `sessionId` names
   * it in the agent's actor id (default: the transport's, else a fresh one). Resolves once connected.
   */
  async connect(transport: Transport, sessionId: string = transport.sessionId ?? randomUUID().replaceAll('-', '').slice(0, 12)): Promise<McpSessionInfo> {
    if (this.#closed) throw new InputError('the MCP server is closed', { code: 'MCP_CLOSED' });
    // Two sessions under one id (as the agent's actor id writes it) would be one agent: each
    // session must be its own actor, also after a close (the new one would inherit the old one's
    // streams and records).
    if (this.#sessions.has(sessionId)) throw new InputError(`sessionId: a session "${sessionId}" is already connected`, { field: 'sessionId' });
    const actorPart = sanitiseClientName(sessionId);
    if (this.#servedIds.has(actorPart) || [...this.#sessions.keys()].some((open) => sanitiseClientName(open) === actorPart)) {
      throw new InputError(`sessionId: "${sessionId}" names the agent of another session, open or served before ("${actorPart}"); give each session a new id`, { field: 'sessionId' });
    }
    const { engine, registrar, name, heardWaitMs, logger, policy, audit } = this.#options;
    const mcp = new McpServer(
      { name, version: packageVersion() },
      { capabilities: { logging: {}, experimental: { [MCP_EXTENSION]: { schemaVersion: REGISTRAR_SCHEMA_VERSION, supported: [...SUPPORTED_SCHEMA_VERSIONS] } } }, instructions: INSTRUCTIONS, maxToolInputElements: 10_000 },
    );
    const notify = (notice: StreamNotice) => {
      mcp.server.sendLoggingMessage({ level: 'info', logger: 'voice-soundboard', data: notice }).catch(() => undefined);
    };
    const session = new AgentSession({ sessionId, registrar, engine, clientName: () => mcp.server.getClientVersion()?.name, notify, policy });
    const schemaVersion = (): string => {
      const asked: unknown = mcp.server.getClientCapabilities()?.experimental?.[MCP_EXTENSION];
      return negotiateVersion(typeof asked === 'object' && asked !== null ? (asked as { schemaVersion?: unknown }).schemaVersion : undefined);
    };
    const streamCaps = { perSession: this.#options.maxStreamsPerSession, allAgents: this.#options.maxAgentStreams, allActive: () => [...this.#sessions.values()].reduce((sum, open) => sum + open.session.activeCount(), 0) };
    const context: tools.ToolContext = { session, registrar, limiter: this.#limiter, schemaVersion, catalogue: () => this.#voiceCatalogue(), heardWaitMs, streamCaps, ...(audit ? { audit } : {}) };
    registerTools(mcp, context, logger);
    this.#sessions.set(sessionId, { session, mcp });
    mcp.server.onclose = () => {
      this.#sessions.delete(sessionId);
      // Remembered only once its agent exists (a tool call registered it): a request that never
      // became a session (an HTTP POST that was no initialize) leaves nothing behind.
      if (session.registered) this.#servedIds.add(actorPart);
      void session.close().catch(() => undefined);
      logger?.info({ sessionId, actor: session.registered ? session.actor.key : null }, 'mcp session closed');
    };
    // The pace wraps the handler connect() sets, before connect() starts the transport: a transport
    // may deliver from start() what was sent before (the SDK's InMemoryTransport does), unpaced after.
    const start = transport.start;
    transport.start = () => {
      transport.start = start;
      this.#pace(transport, `${this.#paceKeyPrefix}:${(this.#connections += 1)}`, sessionId, session);
      return start.call(transport);
    };
    try {
      await mcp.connect(transport);
    } finally {
      transport.start = start; // when connect() threw before starting it
    }
    logger?.info({ sessionId }, 'mcp session opened');
    return { sessionId, actor: null };
  }

  /**
   * Counts every request `transport` brings against the session's protocol budget (`key`); one past
   * it is answered here with a JSON-RPC error and never reaches the SDK. Wraps the handler the SDK
   * set in connect(), as connect() starts the transport; the first refusal of a run is logged and audited, not each one of a flood.
   */
  #pace(transport: Transport, key: string, sessionId: string, session: AgentSession): void {
    const served = transport.onmessage;
    const { audit, logger } = this.#options;
    let refusing = false;
    transport.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message)) {
        const pace = this.#protocolLimiter.check(key);
        if (!pace.allowed) {
          const { requestsPerWindow, windowMs } = this.#protocolLimiter.limits;
          const retryAfterMs = Math.ceil(pace.retryAfterMs);
          if (!refusing) {
            logger?.warn({ sessionId, retryAfterMs }, 'mcp session: requests refused, too many');
            audit?.rateLimited({ client: sessionId, ...(session.registered ? { actor: session.actor.key } : {}), limit: 'protocol_requests', retryAfterMs });
          }
          refusing = true;
          const error = { code: -32000, message: `rate limited: at most ${requestsPerWindow} requests per ${windowMs / 1000} s in one session; retry in ${retryAfterMs} ms`, data: { reason: 'rate_limited', retry_after_ms: retryAfterMs } };
          void transport.send({ jsonrpc: '2.0', id: message.id, error }, { relatedRequestId: message.id }).catch(() => undefined);
          return;
        }
        refusing = false;
      }
      served?.(message, extra);
    };
  }

  /** Closes every session (their streams stop) and the voice catalogue; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const open = [...this.#sessions.values()];
    await Promise.allSettled(open.map(async ({ session, mcp }) => {
      await mcp.close();
      // The host closing the server: the sessions' speech stops now (the engines' runtime ends it).
      await session.close({ force: true });
    }));
    this.#sessions.clear();
    const catalogue = await this.#catalogue?.catch(() => null);
    await Promise.allSettled((catalogue?.backends() ?? []).map((backend) => backend.close()));
  }

  #voiceCatalogue(): Promise<VoiceCatalogue> {
    this.#catalogue ??= VoiceCatalogue.fromRegistry(new BackendRegistry());
    return this.#catalogue;
  }
}

/** Registers the seven tools on one session's McpServer; a handler's unexpected throw becomes a result too. */
function registerTools(mcp: McpServer, context: tools.ToolContext, logger: McpLogger | undefined): void {
  const guarded = <A>(name: string, handler: (input: A) => CallToolResult | Promise<CallToolResult>) => async (input: A): Promise<CallToolResult> => {
    let result: CallToolResult;
    try {
      result = await handler(input);
    } catch (error) {
      logger?.warn({ tool: name, error: error instanceof Error ? error.message : String(error) }, 'mcp tool failed');
      result = tools.unexpected(context, error);
    }
    const structured = result.structuredContent as { success?: boolean; reason?: string | null } | undefined;
    if (structured?.success === false) logger?.info({ tool: name, actor: context.session.registered ? context.session.actor.key : null, reason: structured.reason }, 'mcp call denied');
    return result;
  };
  mcp.registerTool('speak', { title: 'Speak', description: 'Speak text aloud as this agent. Returns at once with stream_id (speech goes on); wait: true returns when playback ends, with heard.', inputSchema: schemas.speakInput, outputSchema: schemas.speakOutput }, guarded('speak', (input) => tools.speakTool(context, input)));
  mcp.registerTool('interrupt', { title: 'Interrupt', description: "Interrupt one of this agent's own streams (default: its current one); the result says what was heard.", inputSchema: schemas.interruptInput, outputSchema: schemas.interruptOutput }, guarded('interrupt', (input) => tools.interruptTool(context, input)));
  mcp.registerTool('query_state', { title: 'Query state', description: "The registrar state of one of this agent's streams.", inputSchema: schemas.queryStateInput, outputSchema: schemas.queryStateOutput }, guarded('query_state', (input) => tools.queryStateTool(context, input)));
  mcp.registerTool('list_voices', { title: 'List voices', description: 'Voices available, filtered by language or backend.', inputSchema: schemas.listVoicesInput, outputSchema: schemas.listVoicesOutput }, guarded('list_voices', (input) => tools.listVoicesTool(context, input)));
  mcp.registerTool('dialogue', { title: 'Dialogue', description: 'Speak lines in order, one stream each; returns once the first line started.', inputSchema: schemas.dialogueInput, outputSchema: schemas.dialogueOutput }, guarded('dialogue', (input) => tools.dialogueTool(context, input)));
  mcp.registerTool('list_streams', { title: 'List streams', description: "This agent's streams and their states.", inputSchema: schemas.listStreamsInput, outputSchema: schemas.listStreamsOutput }, guarded('list_streams', () => tools.listStreamsTool(context)));
  mcp.registerTool('get_attestations', { title: 'Get attestations', description: "The registrar's records of this agent's requests and streams, most recent last.", inputSchema: schemas.getAttestationsInput, outputSchema: schemas.getAttestationsOutput }, guarded('get_attestations', (input) => tools.getAttestationsTool(context, input)));
}

/** The MCP server of a host's engine and registrar (see VoiceMcpServer). */
export function createMcpServer(options: McpServerOptions): VoiceMcpServer {
  return new VoiceMcpServer(options);
}
