/**
 * The MCP tools' zod schemas: inputs (the three 2.9 tools `speak`, `interrupt`, `query_state`
 * keep their frozen names and parameters) and structured outputs. Every output carries the 2.8
 * `MCPResponse` fields `{ success, decision, reason, attestation_id, retry_after }` plus
 * `stream_id` and the negotiated `schema_version`; a denial is such a result with
 * `success: false`, never a protocol error.
 */
import { z } from 'zod';
import { STREAM_STATES } from '../registrar/core.js';

/** Limits of tool input (text sizes, list lengths). */
export const MCP_LIMITS = Object.freeze({
  /** Longest `text` of one `speak` (and of one dialogue line), in characters. */
  maxTextChars: 10_000,
  /** Most lines of one `dialogue`. */
  maxDialogueLines: 64,
  /** Most records `get_attestations` returns. */
  maxAttestations: 200,
  /** Most streams `list_streams` returns (the most recent). */
  maxStreams: 100,
  /** Most voices `list_voices` returns. */
  maxVoices: 500,
});

const streamId = z.string().regex(/^\S{1,200}$/, 'expected a stream id (1-200 non-space characters)');
const voiceId = z.string().min(1).max(200);

/** `speak` (frozen 2.9: `text`, `voice`, `interrupt`; `wait` added). */
export const speakInput = {
  text: z.string().min(1).max(MCP_LIMITS.maxTextChars).describe('What to say (plain text or light markup).'),
  voice: voiceId.optional().describe('Voice id (see list_voices); default: the engine default.'),
  interrupt: z.boolean().optional().describe("First interrupt this agent's own current stream."),
  wait: z.boolean().optional().describe('Return when playback ends, with `heard` (default: return at once).'),
};

/** `interrupt` (frozen 2.9: `stream_id`). */
export const interruptInput = {
  stream_id: streamId.optional().describe("The stream to interrupt; default: this agent's current stream."),
};

/** `query_state` (frozen 2.9: `stream_id`). */
export const queryStateInput = {
  stream_id: streamId.describe('The stream to read.'),
};

/** `list_voices`. */
export const listVoicesInput = {
  language: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/, 'expected a BCP-47 language such as "en" or "en-US"').optional(),
  backend: z.string().min(1).max(100).optional(),
};

/** One line of a `dialogue`. */
export const dialogueLineSchema = z.strictObject({
  speaker: z.string().trim().min(1).max(64),
  text: z.string().min(1).max(MCP_LIMITS.maxTextChars),
  voice: voiceId.optional(),
});

/** `dialogue`. */
export const dialogueInput = {
  lines: z.array(dialogueLineSchema).min(1).max(MCP_LIMITS.maxDialogueLines),
};

/** `list_streams` takes nothing. */
export const listStreamsInput = {};

/** `get_attestations`. */
export const getAttestationsInput = {
  stream_id: streamId.optional().describe("Only this stream's records (one of this agent's streams)."),
  limit: z.number().int().min(1).max(MCP_LIMITS.maxAttestations).optional().describe('Most recent records to return (default 50).'),
};

/** The fields every tool result carries. */
export const baseResultShape = {
  success: z.boolean(),
  decision: z.enum(['allowed', 'denied']),
  /** Reason code of a denial (`not_owner`, `accessibility_override`, `rate_limited`, `invalid_input`, ...), else null. */
  reason: z.string().nullable(),
  attestation_id: z.string().nullable(),
  /** Seconds until a rate-limited call may be retried, else null. */
  retry_after: z.number().nullable(),
  stream_id: z.string().nullable(),
  /** The registrar schema version negotiated with the client. */
  schema_version: z.string(),
  /** A readable explanation of a denial or error. */
  message: z.string().optional(),
  /** The input field at fault, for `invalid_input`. */
  field: z.string().optional(),
};

/** What reached the listener of a played stream. */
export const heardSchema = z.object({
  text: z.string(),
  played_ms: z.number(),
  cut_at_ms: z.number().nullable(),
});

const streamView = z.object({
  stream_id: z.string(),
  state: z.enum(STREAM_STATES),
  owner: z.string().nullable(),
  session_id: z.string(),
  priority: z.number(),
  version: z.number(),
  last_attestation: z.string().nullable(),
});

/** Output of `speak`. */
export const speakOutput = { ...baseResultShape, heard: heardSchema.nullable().optional(), interrupted_stream_id: z.string().nullable().optional() };
/** Output of `interrupt`. */
export const interruptOutput = { ...baseResultShape, heard: heardSchema.nullable().optional(), conversation_id: z.string().optional() };
/** Output of `query_state`. */
export const queryStateOutput = { ...baseResultShape, state: streamView.nullable().optional() };
/** Output of `list_voices`. */
export const listVoicesOutput = {
  ...baseResultShape,
  voices: z.array(z.object({ id: z.string(), backend: z.string(), name: z.string(), languages: z.array(z.string()), gender: z.string().optional() })).optional(),
};
/** Output of `dialogue`. */
export const dialogueOutput = { ...baseResultShape, conversation_id: z.string().optional(), stream_ids: z.array(z.string()).optional() };
/** Output of `list_streams`. */
export const listStreamsOutput = { ...baseResultShape, streams: z.array(streamView).optional() };
/** Output of `get_attestations`. */
export const getAttestationsOutput = {
  ...baseResultShape,
  attestations: z
    .array(z.object({ id: z.string(), seq: z.number(), actor: z.string().nullable(), action: z.string().nullable(), target: z.string().nullable(), decision: z.string(), reason: z.string().nullable(), timestamp: z.string(), metadata: z.record(z.string(), z.union([z.string(), z.number()])).optional() }))
    .optional(),
};

/** The structured content of any tool result. */
export type ToolResult = z.infer<z.ZodObject<typeof baseResultShape>> & Record<string, unknown>;
