/**
 * A small real HTTP server on 127.0.0.1 (ephemeral port) for backend tests: it records every
 * request (method, path, headers, body) and answers with handlers the test queues per request.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import type { EngineOutput } from '../../src/graph/engine-output.js';

/** A request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, e.g. `/v1/text-to-speech/abc/stream?output_format=pcm_24000`. */
  url: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the body was complete (performance.now()). */
  receivedAtMs: number;
  /** Resolves when the client side of the connection went away before the response finished. */
  closedEarly: Promise<void>;
}

/** Answers one request. */
export type Responder = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** A recording HTTP server; queue responders with `respond`, the last one repeats. */
export class TestHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly responders: Responder[] = [];
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>` */
    readonly baseUrl: string,
  ) {}

  /** Starts a server on 127.0.0.1 with an ephemeral port. */
  static async start(): Promise<TestHttpServer> {
    let self: TestHttpServer | undefined;
    const server = createServer((request, response) => {
      self?.handle(request, response);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    self = new TestHttpServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Queues responders for the next requests, in order; the last one answers every later request. */
  respond(...responders: Responder[]): this {
    this.responders.push(...responders);
    return this;
  }

  /** Closes every connection and the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await Promise.allSettled([...this.pending]);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '/';
      const parsed = new URL(url, 'http://127.0.0.1');
      const closedEarly = new Promise<void>((resolve) => {
        response.on('close', () => {
          if (!response.writableFinished) resolve();
        });
      });
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAtMs: performance.now(),
        closedEarly,
      };
      const index = this.requests.length;
      this.requests.push(recorded);
      const responder = this.responders[Math.min(index, this.responders.length - 1)];
      const work = (async () => {
        if (!responder) {
          response.writeHead(500, { 'content-type': 'text/plain' }).end('no responder queued');
          return;
        }
        try {
          await responder(recorded, response);
        } catch (error) {
          if (!response.headersSent) response.writeHead(500).end(String(error));
          else response.destroy();
        }
      })();
      this.pending.add(work);
      void work.finally(() => this.pending.delete(work));
    });
  }
}

/** The server of the running test, as `useTestHttpServer` hands it out. */
export type TestServerHandle = Pick<TestHttpServer, 'baseUrl' | 'requests' | 'respond'>;

/**
 * Starts a fresh `TestHttpServer` before each test of the enclosing suite (or file) and closes it
 * after. The handle it returns always refers to the running test's server.
 */
export function useTestHttpServer(): TestServerHandle {
  let current: TestHttpServer | undefined;
  beforeEach(async () => {
    current = await TestHttpServer.start();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const running = (): TestHttpServer => {
    if (!current) throw new Error('the test HTTP server only runs inside a test');
    return current;
  };
  return {
    get baseUrl() {
      return running().baseUrl;
    },
    get requests() {
      return running().requests;
    },
    respond(...responders: Responder[]) {
      return running().respond(...responders);
    },
  };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Mono s16le bytes of `samples` (integers in [-32768, 32767]). */
export function s16leBytes(samples: readonly number[]): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, index) => bytes.writeInt16LE(sample, index * 2));
  return bytes;
}

/** A deterministic test signal of `count` distinct-ish s16 samples (covers negatives and both bytes). */
export function testSamples(count: number): number[] {
  return Array.from({ length: count }, (_, index) => ((index * 7919) % 65536) - 32768);
}

/** Responder: 200 with `body` of PCM, written in one go. */
export function pcmResponder(body: Uint8Array, contentType = 'application/octet-stream'): Responder {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': contentType, 'content-length': String(body.byteLength) });
    response.end(body);
  };
}

/** Responder: `status` with a JSON body and extra headers. */
export function jsonResponder(status: number, body: unknown, headers: Record<string, string> = {}): Responder {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
}

/**
 * Responder: 200 whose body is written in `pieces`, waiting `gap()` between pieces; `onPiece`
 * runs after each write (for ordering assertions). Stops writing if the client goes away.
 */
export function piecewiseResponder(
  pieces: readonly Uint8Array[],
  gap: (index: number) => Promise<void>,
  onPiece: (index: number) => void = () => undefined,
): Responder {
  return async (request, response) => {
    let gone = false;
    void request.closedEarly.then(() => {
      gone = true;
    });
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.flushHeaders();
    for (let index = 0; index < pieces.length; index++) {
      if (index > 0) await Promise.race([gap(index), request.closedEarly]);
      if (gone) return;
      response.write(pieces[index]!);
      onPiece(index);
    }
    response.end();
  };
}

/** Responder that never answers and returns once the client has gone. */
export const silentResponder: Responder = async (request) => {
  await request.closedEarly;
};

/** A streamed answer that shows audio reaching the caller before the body is complete. */
export interface HeldBackStream {
  /** Writes the pieces 20 ms apart, holding the last one back until the caller's first chunk (at most 20 s, a deadline only). */
  responder: Responder;
  /** `piece <index>` as each piece is written, `first chunk` when the caller gets its first chunk. */
  events: string[];
  /** Drains a synthesis stream, logging and releasing on its first chunk. */
  consume(chunks: AsyncIterable<EngineOutput>): Promise<EngineOutput[]>;
}

/** A `HeldBackStream` of `pieces`. */
export function heldBackStream(pieces: readonly Uint8Array[]): HeldBackStream {
  const events: string[] = [];
  let firstChunkSeen!: () => void;
  const firstChunk = new Promise<void>((resolve) => (firstChunkSeen = resolve));
  const lastIndex = pieces.length - 1;
  // Bounded, so a client that buffers the whole body still finishes (and fails the order assertion);
  // generous, so a correct client on a busy machine never reaches it.
  const gap = (index: number) => (index === lastIndex ? Promise.race([firstChunk, delay(20_000)]) : delay(20));
  return {
    responder: piecewiseResponder(pieces, gap, (index) => events.push(`piece ${index}`)),
    events,
    async consume(chunks) {
      const out: EngineOutput[] = [];
      for await (const chunk of chunks) {
        if (out.length === 0) {
          events.push('first chunk');
          firstChunkSeen();
        }
        out.push(chunk);
      }
      return out;
    },
  };
}

/** An answer that keeps coming: `prefix`, then 1 MiB pieces of `filler` until `capBytes` were written or the client went away, then `suffix`. */
export interface EndlessAnswer {
  responder: Responder;
  /** Bytes written so far. */
  written(): number;
}

/** An `EndlessAnswer` (200, `contentType`); `capBytes` only keeps a client that reads it all from running for ever. */
export function endlessAnswer(contentType: string, capBytes: number, prefix = '', filler = 0x61, suffix = ''): EndlessAnswer {
  let written = 0;
  const piece = Buffer.alloc(1024 * 1024, filler);
  return {
    written: () => written,
    responder: async (request, response) => {
      let gone = false;
      void request.closedEarly.then(() => {
        gone = true;
      });
      response.writeHead(200, { 'content-type': contentType });
      response.write(prefix);
      written += Buffer.byteLength(prefix);
      while (!gone && written < capBytes) {
        if (!response.write(piece)) await Promise.race([once(response, 'drain'), request.closedEarly]);
        written += piece.byteLength;
      }
      if (!gone) response.end(suffix);
    },
  };
}
