/**
 * The injection corpus through the MCP face: each payload is the `text` of a `speak` sent by a real
 * SDK client. Embedded server (in-memory transport): the whole corpus, each spoken payload judged on
 * the graph the engine committed (its hash is the one the registrar attested for the stream's
 * `compile`), each refusal required to be a coded result, never `internal_error`. One stdio smoke
 * (`voice-soundboard mcp`, espeak-ng) with the first payload of every category.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { compile, looksLikeSsml, type CompileOptions } from '../../src/compiler/index.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { SpeechGraph } from '../../src/graph/speech-graph.js';
import { MCP_LIMITS } from '../../src/mcp/schemas.js';
import { createMcpServer, type VoiceMcpServer } from '../../src/mcp/server.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { INJECTION_CORPUS, type InjectionPayload } from '../fixtures/security/injection-corpus.js';
import { connectInMemory, spawnStdioClient, type Structured, type TestClient } from '../helpers/mcp.js';
import { graphOutput, judgeOutcome, type Verdict } from '../helpers/injection-runner.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';
import { waitUntil } from '../helpers/waiting.js';

/** What `speak` compiles: the engine's defaults for `format: 'auto'` (lenient unless it is SSML). */
const speakOptions = (text: string): CompileOptions => ({ format: 'auto', lenient: !looksLikeSsml(text) });
const hashOf = (graph: SpeechGraph): string => `sha256:${createHash('sha256').update(JSON.stringify(graph)).digest('hex')}`;

/** The judge of one `speak` result: a coded refusal, or speech whose graph passes `judgeOutcome`. */
function verdictOf(face: string, payload: InjectionPayload, result: Structured, attestedHash: string | null): Verdict {
  if (!result.success) {
    const coded = typeof result.reason === 'string' && /^[a-z_]+$/.test(result.reason) && result.reason !== 'internal_error';
    return { face, id: payload.id, outcome: 'refused', success: coded ? null : `not a coded refusal: ${String(result.reason)} ${String(result.message).slice(0, 200)}`, code: String(result.reason) };
  }
  let graph: SpeechGraph;
  try {
    graph = compile(payload.text, speakOptions(payload.text));
  } catch {
    return { face, id: payload.id, outcome: 'spoken', success: 'the MCP face spoke what the API refuses' };
  }
  if (attestedHash !== null && attestedHash !== hashOf(graph)) return { face, id: payload.id, outcome: 'spoken', success: 'the engine committed another graph than the one judged' };
  return { face, id: payload.id, outcome: 'spoken', success: judgeOutcome(payload, 'bounded', graphOutput(graph)) };
}

describe('injection corpus through MCP (speak)', () => {
  let registrar: AudioRegistrar;
  let output: AudioOutput;
  let engine: VoiceEngine;
  let server: VoiceMcpServer;
  let agent: TestClient;

  beforeAll(async () => {
    registrar = new AudioRegistrar();
    output = new AudioOutput({ backend: 'null', capture: true });
    engine = new VoiceEngine({ registrar, output, backend: new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 8, gapFrames: 8, level: 0.1 }) });
    server = createMcpServer({ engine, registrar, rateLimit: { requestsPerWindow: 1_000_000, charsPerWindow: 1_000_000_000 }, protocolRateLimit: { requestsPerWindow: 1_000_000 } });
    agent = await connectInMemory(server, 'injector');
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
    await engine?.close();
    output?.close();
  });

  it('embedded server: every payload of the corpus → 0 successes (each refused with a code or spoken within the caps)', async () => {
    const verdicts: Verdict[] = [];
    for (const payload of INJECTION_CORPUS) {
      if (payload.text.length === 0 || payload.text.length > MCP_LIMITS.maxTextChars) {
        // Beyond the tool's input schema: the SDK refuses the call itself, as an error result.
        const raw = await agent.raw('speak', { text: payload.text });
        verdicts.push({ face: 'mcp', id: payload.id, outcome: 'refused', success: raw.isError === true ? null : 'a text beyond the schema was accepted' });
        continue;
      }
      const result = await agent.call('speak', { text: payload.text });
      const streamId = typeof result.stream_id === 'string' ? result.stream_id : null;
      const compileRecord = () => (streamId === null ? undefined : registrar.attestationStore.query({ target: streamId }).find((record) => record.action === 'compile'));
      // speak answers once the stream started; its compile follows.
      if (result.success) await waitUntil(() => compileRecord() !== undefined || ['stopped', 'failed'].includes(registrar.getState(streamId ?? '')?.state ?? ''), `${payload.id}: the compile of stream ${streamId}`);
      const compiled = compileRecord();
      const asked = compiled?.parameters.metadata as { graphHash?: unknown } | undefined;
      const attested = typeof asked?.graphHash === 'string' ? asked.graphHash : null;
      if (result.success) expect(attested, `${payload.id}: the compile attestation`).not.toBeNull();
      verdicts.push(verdictOf('mcp', payload, result, attested));
      // Cut what still plays (a long break must not hold the test); a stream that just ended answers terminal_state.
      if (streamId !== null && !['stopped', 'failed'].includes(registrar.getState(streamId)?.state ?? 'stopped')) await agent.call('interrupt', { stream_id: streamId });
    }
    expect(verdicts.filter((verdict) => verdict.success !== null)).toEqual([]);
    expect(verdicts.filter((verdict) => verdict.outcome === 'spoken').length).toBeGreaterThan(INJECTION_CORPUS.length / 4);
    expect(verdicts.some((verdict) => verdict.outcome === 'refused')).toBe(true);
  }, 300_000);

  it('the judge catches a planted success: a graph other than the attested one, and an uncoded refusal', () => {
    const payload = { id: 'planted', category: 'misc' as const, text: 'Hello.' };
    expect(verdictOf('mcp', payload, { success: true } as Structured, 'sha256:0')).toMatchObject({ success: 'the engine committed another graph than the one judged' });
    expect(verdictOf('mcp', payload, { success: false, reason: 'internal_error', message: 'TypeError' } as Structured, null).success).toMatch(/not a coded refusal/);
    const marked = { id: 'planted-mark', category: 'mark-name' as const, text: '<speak><mark name="a b"/>x</speak>' };
    expect(verdictOf('mcp', marked, { success: true } as Structured, null).success).toMatch(/unsafe mark name|refuses/);
  });
});

describe('injection corpus through MCP over stdio (voice-soundboard mcp, espeak-ng)', () => {
  it('the first payload of every category: 0 successes', async () => {
    const agent = await spawnStdioClient('stdio-injector', ['--requests-per-minute', '1000', '--protocol-requests', '1000000']);
    try {
      const firsts = new Map<string, InjectionPayload>();
      for (const payload of INJECTION_CORPUS) if (payload.text.length <= 400 && !firsts.has(payload.category)) firsts.set(payload.category, payload);
      const verdicts: Verdict[] = [];
      for (const payload of firsts.values()) {
        const result = await agent.call('speak', { text: payload.text });
        verdicts.push(verdictOf('mcp:stdio', payload, result, null));
        if (result.success) await agent.call('interrupt', { stream_id: result.stream_id });
      }
      expect(verdicts.filter((verdict) => verdict.success !== null)).toEqual([]);
      expect(verdicts.length).toBeGreaterThanOrEqual(8);
      // The server is still serving after the corpus.
      await waitUntil(async () => (await agent.call('list_streams')).success === true, 'the stdio server to answer');
    } finally {
      await agent.close();
    }
  }, 120_000);
});
