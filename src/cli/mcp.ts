/**
 * `voice-soundboard mcp`: the MCP server of a new engine and registrar, over stdio (one session:
 * stdout is the protocol, logs go to stderr) or, with `--http`, over Streamable HTTP on loopback
 * (one session per client, optional bearer token). Audio follows the engine's device choice
 * (`VOICE_SOUNDBOARD_AUDIO_BACKEND=null` runs headless). Runs until stdin ends (stdio) or a signal.
 */
import { pino } from 'pino';
import { z } from 'zod';
import { VoiceEngine } from '../engine/voice-engine.js';
import { isLoopbackHost, serveMcpHttp } from '../mcp/http.js';
import { createMcpServer } from '../mcp/server.js';
import { LineStdioTransport } from '../mcp/stdio-transport.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { AuditLogger } from '../security/audit-log.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard mcp [options]

Serves the MCP tools speak, interrupt, query_state, list_voices, dialogue, list_streams and
get_attestations. Each MCP session is its own agent under the registrar. Logs go to stderr.

Options:
      --http                    serve Streamable HTTP instead of stdio
      --host <address>          --http: address to listen on (default 127.0.0.1; any
                                other than loopback needs --token)
      --port <n>                --http: port (default 0: any free port, printed on stderr)
      --token <t>               --http: require "Authorization: Bearer <t>"
                                (default: VOICE_SOUNDBOARD_MCP_TOKEN when set)
      --requests-per-minute <n> calls per agent per minute (default 60)
      --chars-per-minute <n>    characters of text per agent per minute (default 100000)
      --protocol-requests <n>   requests of any kind (tools/list, ping, calls...) per
                                session per 10 s (default 100); past it a request gets
                                a JSON-RPC error (-32000, rate_limited)
      --audit-log <file>        append security events (rate limits, denials, auth
                                failures, failed streams) as JSON lines to <file>
  -h, --help                    show this help

Environment: VOICE_SOUNDBOARD_AUDIO_BACKEND=null runs without a sound card.
`;

const FLAGS: FlagSpec = {
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'requests-per-minute': { type: 'string' },
  'chars-per-minute': { type: 'string' },
  'protocol-requests': { type: 'string' },
  'audit-log': { type: 'string' },
};

const count = (max: number) => z.coerce.number().int().min(1).max(max);

const valuesSchema = z.object({
  http: z.boolean().optional(),
  host: z.string().min(1).max(255).optional(),
  port: z.coerce.number().int().min(0).max(65_535).optional(),
  token: z.string().min(8, 'expected a token of at least 8 characters').max(4096).optional(),
  'requests-per-minute': count(1_000_000).optional(),
  'chars-per-minute': count(1_000_000_000).optional(),
  'protocol-requests': count(1_000_000_000).optional(),
  'audit-log': z.string().min(1).max(4096).optional(),
});

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length > 0) {
    io.stderr.write(`voice-soundboard mcp: unexpected argument ${JSON.stringify(positionals[0])}\n`);
    return 2;
  }
  if (!values.http && (values.host ?? values.port ?? values.token) !== undefined) {
    io.stderr.write('voice-soundboard mcp: --host, --port and --token need --http\n');
    return 2;
  }
  const token = values.token ?? process.env.VOICE_SOUNDBOARD_MCP_TOKEN;
  if (values.http && values.host !== undefined && !isLoopbackHost(values.host) && !token) {
    io.stderr.write(`voice-soundboard mcp: --host ${values.host} is not a loopback address: pass --token (or set VOICE_SOUNDBOARD_MCP_TOKEN), or anyone reaching the port could speak and control streams\n`);
    return 2;
  }
  const logger = pino({ base: null, name: 'voice-soundboard-mcp' }, io.stderr as unknown as pino.DestinationStream);
  const audit = values['audit-log'] ? new AuditLogger({ destination: values['audit-log'] }) : undefined;
  const registrar = new AudioRegistrar();
  const unwatch = audit?.watchRegistrar(registrar);
  const engine = new VoiceEngine({ registrar, ...(audit ? { audit } : {}) });
  const server = createMcpServer({
    engine,
    registrar,
    logger,
    ...(audit ? { audit } : {}),
    rateLimit: { windowMs: 60_000, ...(values['requests-per-minute'] ? { requestsPerWindow: values['requests-per-minute'] } : {}), ...(values['chars-per-minute'] ? { charsPerWindow: values['chars-per-minute'] } : {}) },
    ...(values['protocol-requests'] ? { protocolRateLimit: { requestsPerWindow: values['protocol-requests'] } } : {}),
  });
  const stopped = new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    if (values.http) {
      const http = await serveMcpHttp(server, { ...(values.host ? { host: values.host } : {}), ...(values.port !== undefined ? { port: values.port } : {}), ...(token ? { token } : {}), logger, ...(audit ? { audit } : {}) });
      logger.info({ url: http.url, auth: token ? 'bearer' : 'none' }, 'mcp http listening');
      await stopped;
      await http.close();
    } else {
      const transport = new LineStdioTransport({ input: io.stdin, output: io.stdout });
      const ended = new Promise<void>((resolve) => (transport.onclose = resolve));
      await server.connect(transport);
      logger.info({}, 'mcp stdio ready');
      await Promise.race([ended, stopped]);
    }
  } finally {
    await server.close();
    await engine.close();
    await registrar.close();
    unwatch?.();
  }
  return 0;
}

/** `voice-soundboard mcp`. */
export const mcpCommand: CliCommand = {
  summary: 'serve the MCP tools (stdio, or --http)',
  help: HELP,
  run,
  interruptible: true,
};
