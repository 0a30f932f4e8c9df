import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { AuditLogger } from '../../src/security/audit-log.js';
import { SecretManager } from '../../src/security/secrets.js';
import { rejection } from '../helpers/errors.js';

const directory = mkdtempSync(join(tmpdir(), 'vs-audit-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let counter = 0;

function logger(options: { logSpokenText?: boolean } = {}): { audit: AuditLogger; lines: () => Array<Record<string, unknown>> } {
  const path = join(directory, `audit-${counter++}.jsonl`);
  const audit = new AuditLogger({ destination: path, ...options });
  return {
    audit,
    lines: () =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('AuditLogger', () => {
  it('writes each event as one JSON line with time, event, client, actor and reason (synchronously to a file)', () => {
    const { audit, lines } = logger();
    audit.rateLimited({ client: 'mcp:session-1', actor: 'agent:claude', limit: 'characters', retryAfterMs: 1200 });
    audit.authFailed({ client: '127.0.0.1:5000', reason: 'bad token' });
    audit.pluginViolation({ plugin: 'echo', actor: 'plugin:echo', reason: 'tried to read /etc/passwd' });
    const written = lines();
    expect(written.map((line) => line.event)).toEqual(['rate_limited', 'auth_failed', 'plugin_violation']);
    expect(written[0]).toMatchObject({ level: 'warn', message: 'security event', client: 'mcp:session-1', actor: 'agent:claude', reason: 'characters limit reached', limit: 'characters', retryAfterMs: 1200 });
    expect(written[1]).toMatchObject({ client: '127.0.0.1:5000', actor: null, reason: 'bad token' });
    for (const line of written) expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('logs registrar denials, failed streams and override changes of a watched registrar', () => {
    const { audit, lines } = logger();
    const registrar = new AudioRegistrar();
    const stop = audit.watchRegistrar(registrar, { client: 'host' });
    const agent = registrar.registerActor('agent:claude-1');
    registrar.registerActor('user:alice');
    const started = registrar.request({ action: 'start', actor: agent, metadata: { sessionId: 'den', userId: 'alice' } });
    const denied = audit.registrarDecision(registrar.requestAsHost({ action: 'stop', actor: 'agent:someone-else', target: started.streamId }), { client: 'mcp:s1' });
    expect(denied.allowed).toBe(false);
    audit.registrarDecision(registrar.request({ action: 'start', actor: agent }));
    registrar.request({ action: 'fail', actor: agent, target: started.streamId, reason: 'content filter: denied' });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den', speechRate: 0.5 } });
    stop();
    registrar.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    const written = lines();
    expect(written.map((line) => line.event)).toEqual(['registrar_denied', 'stream_failed', 'override_changed']);
    expect(written[0]).toMatchObject({ client: 'mcp:s1', actor: 'agent:someone-else', reason: denied.reason, streamId: started.streamId, action: 'stop', attestationId: denied.attestation.id });
    expect(written[1]).toMatchObject({ client: 'host', actor: 'agent:claude-1', streamId: started.streamId, reason: 'content filter: denied' });
    expect(written[2]).toMatchObject({ actor: 'user:alice', reason: 'enable_override' });
  });

  it('logs secret access as SecretManager reports it, without the key', async () => {
    const { audit, lines } = logger();
    process.env.VS_AUDIT_KEY = 'sk-audit-planted';
    try {
      await new SecretManager({ name: 'openai', envName: 'VS_AUDIT_KEY', onAccess: audit.secretAccess }).get();
    } finally {
      delete process.env.VS_AUDIT_KEY;
    }
    await rejection(new SecretManager({ name: 'openai', envName: 'VS_AUDIT_KEY', onAccess: audit.secretAccess }).get());
    expect(lines().map(({ time: _time, ...line }) => line)).toEqual([
      { level: 'warn', message: 'security event', event: 'secret_access', client: null, actor: null, reason: null, secret: 'openai', source: 'env', outcome: 'read' },
      { level: 'warn', message: 'security event', event: 'secret_access', client: null, actor: null, reason: 'SECRET_MISSING', secret: 'openai', source: 'env', outcome: 'refused' },
    ]);
    expect(JSON.stringify(lines())).not.toContain('sk-audit-planted');
  });

  it('logs the spoken text of a content-filter block only when enabled', () => {
    const quiet = logger();
    quiet.audit.contentFiltered({ actor: 'agent:a', streamId: 's1', decision: 'deny', reason: 'profanity', spokenText: 'the secret words' });
    expect(quiet.lines()[0]).toMatchObject({ event: 'content_filtered', decision: 'deny', reason: 'profanity', streamId: 's1' });
    expect(JSON.stringify(quiet.lines())).not.toContain('the secret words');
    const loud = logger({ logSpokenText: true });
    loud.audit.contentFiltered({ decision: 'deny', reason: 'profanity', spokenText: 'the secret words' });
    expect(loud.lines()[0]?.spokenText).toBe('the secret words');
  });

  it('writes attacker-chosen text with invisible characters escaped, one line per event', () => {
    const { audit, lines } = logger();
    audit.authFailed({ client: 'evil\u202E\n{"event":"forged"}', reason: 'x\u0000y' });
    const written = lines();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ client: 'evil\\u202E\\u000A{"event":"forged"}', reason: 'x\\u0000y' });
  });

  it('refuses a destination that is neither a path nor a stream, naming the field', () => {
    expect(() => new AuditLogger({ destination: 42 as never })).toThrow(InputError);
    expect(() => new AuditLogger({ destination: 42 as never })).toThrow(/auditLog\.destination/);
  });

  it('refuses a path it cannot open with a coded error naming the field, not a raw ENOENT', () => {
    const make = () => new AuditLogger({ destination: join(directory, 'no-such-dir', 'audit.jsonl') });
    expect(make).toThrow(InputError);
    expect(make).toThrow(/auditLog\.destination: cannot open .*no-such-dir.* \(ENOENT\)/);
  });

  it('appends to a FIFO that has a reader (a log shipper); one without a reader is refused at once, never waited for', () => {
    const fifo = join(directory, 'shipper.fifo');
    execFileSync('mkfifo', [fifo]);
    // No reader: refused with the coded error (before, open(2) blocked the process for good).
    expect(() => new AuditLogger({ destination: fifo })).toThrow(expect.objectContaining({ code: 'AUDIT_LOG_UNWRITABLE', field: 'auditLog.destination' }));
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const audit = new AuditLogger({ destination: fifo });
      audit.authFailed({ client: 'fifo-client', reason: 'wrong bearer token' });
      const buffer = Buffer.alloc(4096);
      const read = readSync(reader, buffer);
      expect(JSON.parse(buffer.subarray(0, read).toString('utf8'))).toMatchObject({ event: 'auth_failed', client: 'fifo-client' });
    } finally {
      closeSync(reader);
    }
  });

  it('a full disk or a failing stream never throws into the caller: the event is dropped, counted and reported', () => {
    const errors: string[] = [];
    const full = new AuditLogger({ destination: '/dev/full', onError: (error) => errors.push(error.code) });
    const registrar = new AudioRegistrar();
    full.watchRegistrar(registrar);
    const agent = registrar.registerActor('agent:disk-full');
    const started = registrar.request({ action: 'start', actor: agent });
    // The registrar's listener writes to the full disk: the request still answers.
    expect(registrar.request({ action: 'fail', actor: agent, target: started.streamId, reason: 'boom' }).allowed).toBe(true);
    expect(() => full.rateLimited({ client: 'c', limit: 'requests', retryAfterMs: 1 })).not.toThrow();
    expect(full.droppedEvents).toBe(2);
    expect(errors).toEqual(['AUDIT_LOG_WRITE_FAILED', 'AUDIT_LOG_WRITE_FAILED']);
    // A stream that throws on write: the same.
    const broken = new AuditLogger({ destination: { write: () => { throw new Error('EPIPE'); } } });
    expect(() => broken.authFailed({ client: 'x', reason: 'wrong token' })).not.toThrow();
    expect(broken.droppedEvents).toBe(1);
    // The control: a writable file drops nothing.
    const { audit } = logger();
    audit.authFailed({ client: 'x', reason: 'wrong token' });
    expect(audit.droppedEvents).toBe(0);
  });

  it('logged spoken text is escaped like every free-text field: no line separator or bidi override reaches the file raw', () => {
    const path = join(directory, `audit-${counter++}.jsonl`);
    const audit = new AuditLogger({ destination: path, logSpokenText: true });
    audit.contentFiltered({ decision: 'deny', reason: 'r', spokenText: 'said\u2028{"event":"forged"}\u2029\u202Eevil\u001b[31m' });
    const raw = readFileSync(path, 'utf8');
    expect(raw).not.toMatch(/[\u2028\u2029\u202E\u001b]/);
    expect(raw.trim().split(/\r?\n|\u2028|\u2029/)).toHaveLength(1);
    expect((JSON.parse(raw) as { spokenText: string }).spokenText).toBe('said\\u2028{"event":"forged"}\\u2029\\u202Eevil\\u001B[31m');
  });

  it('registrarDenial logs a denial known only from its attestation record (a thrown RegistrarDeniedError), or from its reason', () => {
    const { audit, lines } = logger();
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:thrown');
    const denied = registrar.request({ action: 'stop', actor: agent, target: 'stream-unknown' });
    expect(denied.allowed).toBe(false);
    audit.registrarDenial(registrar.attestationStore.bySeq(denied.attestation.seq) ?? null, { client: 'mcp:s9' });
    audit.registrarDenial(null, { client: 'mcp:s9', actor: 'agent:thrown', reason: 'accessibility_override', message: 'a user override covers the stream', streamId: 'stream-x' });
    expect(lines()).toEqual([
      expect.objectContaining({ event: 'registrar_denied', client: 'mcp:s9', actor: 'agent:thrown', reason: denied.reason, action: 'stop', attestationId: denied.attestation.id, detail: denied.message }),
      expect.objectContaining({ event: 'registrar_denied', client: 'mcp:s9', actor: 'agent:thrown', reason: 'accessibility_override', streamId: 'stream-x', action: null, attestationId: null, detail: 'a user override covers the stream' }),
    ]);
  });
});
