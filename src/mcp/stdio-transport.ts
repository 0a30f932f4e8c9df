/**
 * A newline-delimited JSON-RPC transport over a readable and a writable stream (the process's
 * stdin and stdout by default) that answers what the SDK's stdio transport drops silently: a line
 * that is not JSON gets a JSON-RPC parse error (-32700), a JSON value that is not a JSON-RPC
 * message an invalid-request error (-32600, with its id when it has one), and a line longer than
 * `maxLineBytes` is discarded up to its newline and refused (-32600), without closing the session.
 * A client that does not read its answers is met with backpressure: reading stops until they drain.
 */
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** Longest line accepted by default, in bytes (4 MiB: far above any tool call's text limit). */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** The id of a JSON value that looks like a request, for an error reply; undefined otherwise. */
function idOf(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null || !('id' in value)) return undefined;
  const id = (value as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** JSON-RPC over lines of a stream pair; one session per process. */
export class LineStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WritableStream;
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Inside an over-long line: everything up to its newline is dropped. */
  #skipping = false;
  #closed = false;
  #drain: Promise<void> | null = null;
  readonly #onData = (chunk: Buffer | string) => this.#read(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  readonly #onEnd = () => void this.close();

  /** A transport over `input` and `output` (default: the process's stdin and stdout). */
  constructor(options: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream; maxLineBytes?: number } = {}) {
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stdout;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Starts reading. */
  async start(): Promise<void> {
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
  }

  /**
   * Writes one message as a line. When the output is backed up (the client does not read), the
   * transport stops reading requests until it drains: the client's own writes then wait in the
   * pipe, and the answers buffered here stay bounded.
   */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return;
    if (this.#output.write(`${JSON.stringify(message)}\n`)) return;
    this.#input.pause();
    await this.#drained();
  }

  /** Settles when the output drained (one listener however many sends wait); reading resumes then. */
  #drained(): Promise<void> {
    this.#drain ??= new Promise<void>((resolve) => {
      this.#output.once('drain', () => {
        this.#drain = null;
        if (!this.#closed) this.#input.resume();
        resolve();
      });
    });
    return this.#drain;
  }

  /**
   * Stops reading (the input is paused, not only unheard: a flowing stdin would keep the process
   * alive after a SIGTERM, its client still holding the pipe open); idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.#input.pause();
    this.#pending = [];
    this.onclose?.();
  }

  #read(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      const newline = rest.indexOf(0x0a);
      const part = newline === -1 ? rest : rest.subarray(0, newline);
      rest = newline === -1 ? Buffer.alloc(0) : rest.subarray(newline + 1);
      if (!this.#skipping) {
        this.#pendingBytes += part.length;
        if (this.#pendingBytes > this.#maxLineBytes) {
          this.#pending = [];
          this.#pendingBytes = 0;
          this.#skipping = true;
          this.#reply(-32600, `Invalid Request: line longer than ${this.#maxLineBytes} bytes`, undefined);
        } else this.#pending.push(part);
      }
      if (newline === -1) break;
      if (this.#skipping) this.#skipping = false;
      else this.#line(Buffer.concat(this.#pending).toString('utf8').replace(/\r$/, ''));
      this.#pending = [];
      this.#pendingBytes = 0;
    }
  }

  #line(text: string): void {
    if (text.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#reply(-32700, 'Parse error: the line is not JSON', undefined);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      this.#reply(-32600, 'Invalid Request: not a JSON-RPC 2.0 message', idOf(value));
      return;
    }
    this.onmessage?.(parsed.data);
  }

  #reply(code: number, message: string, id: string | number | undefined): void {
    void this.send({ jsonrpc: '2.0', ...(id !== undefined ? { id } : {}), error: { code, message } } as JSONRPCMessage).catch((error: unknown) => this.onerror?.(error instanceof Error ? error : new Error(String(error))));
  }
}
