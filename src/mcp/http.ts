/**
 * `serveMcpHttp(server, options)`: the MCP server over Streamable HTTP on one path (`/mcp`), one
 * SDK transport per MCP session (routed by the `mcp-session-id` header), loopback by default.
 * With a token every request must carry `Authorization: Bearer <token>` (else 401, compared in
 * constant time); a non-loopback address is refused without one. On loopback, Host headers are
 * checked against the listening address (DNS rebinding); everywhere, a browser's Origin is (a web
 * page of another origin is refused with 403, preflight or not). Bounded: sessions, open or being
 * opened (503 beyond), sessions opened per minute (429), open connections (`maxConnections`) and
 * the time a request may take to arrive; an idle session is closed after `sessionIdleMs`.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { AuditLogger } from '../security/audit-log.js';
import { RateLimiter } from '../security/rate-limiter.js';
import { parseInput } from '../validation.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpLogger } from './server.js';

/** What the HTTP face serves: anything that runs one MCP session per transport (a VoiceMcpServer). */
export interface McpSessionHost {
  connect(transport: Transport, sessionId: string): Promise<unknown>;
}

/** Whether `host` names this machine only: `localhost`, 127.0.0.0/8 or ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (name === 'localhost' || name === '::1' || name === '0:0:0:0:0:0:0:1') return true;
  const v4 = name.startsWith('::ffff:') ? name.slice(7) : name;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** Schema of `serveMcpHttp` options. */
export const mcpHttpOptionsSchema = z.strictObject({
  /** Address to listen on (default 127.0.0.1: loopback only). */
  host: z.string().min(1).max(255).default('127.0.0.1'),
  /** Port (default 0: any free port; the result says which). */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Bearer token every request must carry (default: none, loopback trust). */
  token: z.string().min(8, 'expected a token of at least 8 characters').max(4096).optional(),
  /** Open sessions at most (default 100). */
  maxSessions: z.number().int().min(1).max(10_000).default(100),
  /** A session without a request for this long is closed, its streams stopped (default 30 minutes): clients that vanish do not hold slots. */
  sessionIdleMs: z.number().int().min(1).max(86_400_000).default(30 * 60_000),
  /**
   * Sessions opened per minute at most (default 60; 429 with Retry-After beyond): each session is a
   * new agent with fresh rate limits, so a client closing and reopening would otherwise escape them.
   */
  maxNewSessionsPerMinute: z.number().int().min(1).max(100_000).default(60),
  /** Open TCP connections at most (default 256): more are closed at once, so idle sockets cannot exhaust the host's file descriptors. */
  maxConnections: z.number().int().min(1).max(65_536).default(256),
  logger: z.custom<McpLogger>((value) => typeof value === 'object' && value !== null, 'expected a logger').optional(),
  /** Security audit log: every refused bearer token is an `auth_failed` event. */
  audit: z.instanceof(AuditLogger).optional(),
}).superRefine((options, context) => {
  // Off loopback, anyone who reaches the port would act as an agent: a token is the only gate there.
  if (options.token === undefined && !isLoopbackHost(options.host)) {
    context.addIssue({ code: 'custom', path: ['token'], message: `a token is required to listen on ${options.host}, which is not a loopback address (anyone reaching the port could speak and control streams)` });
  }
});

/** What callers may pass to `serveMcpHttp`. */
export type McpHttpOptions = z.input<typeof mcpHttpOptionsSchema>;

/** A running HTTP face. */
export interface McpHttpServer {
  /** `http://host:port/mcp`. */
  url: string;
  port: number;
  /** Stops listening and closes every session's transport; idempotent. */
  close(): Promise<void>;
}

/** The path the MCP endpoint answers on. */
export const MCP_HTTP_PATH = '/mcp';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

function sendJsonError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message } }));
}

/** Serves `server` over Streamable HTTP; resolves once listening. */
export async function serveMcpHttp(server: McpSessionHost, options: McpHttpOptions = {}): Promise<McpHttpServer> {
  const { host, port, token, maxSessions, maxNewSessionsPerMinute, sessionIdleMs, maxConnections, logger, audit } = parseInput(mcpHttpOptionsSchema, options, 'McpHttpOptions');
  const opens = new RateLimiter({ requestsPerWindow: maxNewSessionsPerMinute, windowMs: 60_000, maxKeys: 1 });
  const expected = token === undefined ? null : digest(`Bearer ${token}`);
  const loopback = isLoopbackHost(host);
  const transports = new Map<string, StreamableHTTPServerTransport>();
  /** When each session last had a request (ms, monotonic). */
  const lastSeenMs = new Map<string, number>();
  const sweep = setInterval(() => {
    const nowMs = performance.now();
    for (const [id, seenMs] of lastSeenMs) {
      if (nowMs - seenMs < sessionIdleMs) continue;
      lastSeenMs.delete(id);
      logger?.info({ sessionId: id }, 'mcp http: idle session closed');
      void transports.get(id)?.close();
    }
  }, Math.max(10, Math.min(60_000, Math.floor(sessionIdleMs / 2))));
  sweep.unref();
  let allowedHosts: string[] = [];
  /** Initialize POSTs being answered: sessions not in `transports` yet. */
  let opening = 0;

  // A browser names the page's origin on every cross-origin POST (also a CORS-simple one, sent
  // without a preflight): only pages served from the endpoint's own loopback address may call it.
  const sameOrigin = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      const url = new URL(origin);
      return url.protocol === 'http:' && allowedHosts.includes(url.host);
    } catch {
      return false;
    }
  };

  const authorised = (req: IncomingMessage): boolean => expected === null || timingSafeEqual(digest(req.headers.authorization ?? ''), expected);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== MCP_HTTP_PATH) return sendJsonError(res, 404, -32000, `not found: the MCP endpoint is ${MCP_HTTP_PATH}`);
    if (!sameOrigin(req)) {
      logger?.warn({ origin: req.headers.origin }, 'mcp http: request of another origin refused');
      return sendJsonError(res, 403, -32000, 'forbidden: a request of another origin (a web page) may not use the MCP endpoint');
    }
    if (!authorised(req)) {
      logger?.warn({ remote: req.socket.remoteAddress }, 'mcp http: missing or wrong bearer token');
      audit?.authFailed({ client: req.socket.remoteAddress ?? 'unknown', reason: req.headers.authorization === undefined ? 'missing bearer token' : 'wrong bearer token' });
      return sendJsonError(res, 401, -32001, 'unauthorised: a bearer token is required', { 'www-authenticate': 'Bearer' });
    }
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (sessionId !== undefined) {
      const known = transports.get(sessionId);
      if (!known) return sendJsonError(res, 404, -32001, 'unknown or closed MCP session');
      lastSeenMs.set(sessionId, performance.now());
      return known.handleRequest(req, res);
    }
    if (req.method !== 'POST') return sendJsonError(res, 400, -32000, 'a request without mcp-session-id must be an initialize POST');
    // Sessions still opening count too: their initialize (its body) may arrive after later checks,
    // and each opening one holds an MCP session of the server already.
    if (transports.size + opening >= maxSessions) return sendJsonError(res, 503, -32000, `too many MCP sessions (at most ${maxSessions})`);
    const pace = opens.check('sessions');
    if (!pace.allowed) {
      logger?.warn({ remote: req.socket.remoteAddress }, 'mcp http: sessions opened too fast');
      return sendJsonError(res, 429, -32000, `too many MCP sessions opened (at most ${maxNewSessionsPerMinute} per minute)`, { 'retry-after': String(Math.max(1, Math.ceil(pace.retryAfterMs / 1000))) });
    }
    opening += 1;
    let counted = true;
    const opened = (): void => {
      if (counted) opening -= 1;
      counted = false;
    };
    try {
      await openSession(req, res, opened);
    } finally {
      opened();
    }
  };

  /** Opens one session for an initialize POST: a transport and its MCP session (`opened` once in `transports`). */
  const openSession = async (req: IncomingMessage, res: ServerResponse, opened: () => void): Promise<void> => {
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        opened();
        transports.set(id, transport);
        lastSeenMs.set(id, performance.now());
      },
      // Host names are checked on loopback (DNS rebinding); off loopback clients name the machine
      // as they reach it, and the bearer token (required there) is what admits them.
      enableDnsRebindingProtection: loopback,
      allowedHosts,
    });
    transport.onclose = () => {
      transports.delete(id);
      lastSeenMs.delete(id);
    };
    // The agent's actor id (in every attestation) gets a digest of the session id, never part of
    // it: the session id is what lets a client act as that session.
    await server.connect(transport, digest(`mcp-session:${id}`).toString('hex').slice(0, 12));
    await transport.handleRequest(req, res);
    // Not an initialize (the transport refused it): the session never opened; its server goes.
    if (!transports.has(id)) await transport.close();
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger?.warn({ error: error instanceof Error ? error.message : String(error) }, 'mcp http: request failed');
      if (!res.headersSent) sendJsonError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  http.maxConnections = maxConnections;
  // A client trickling its headers or body (slowloris) holds its socket for seconds, not minutes.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const bound = (http.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  allowedHosts = [`${hostForUrl}:${bound}`, `localhost:${bound}`, `127.0.0.1:${bound}`, `[::1]:${bound}`];
  let closed: Promise<void> | null = null;
  return {
    url: `http://${hostForUrl}:${bound}${MCP_HTTP_PATH}`,
    port: bound,
    close: () => {
      closed ??= (async () => {
        clearInterval(sweep);
        await Promise.allSettled([...transports.values()].map((transport) => transport.close()));
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closed;
    },
  };
}
