/**
 * voice-soundboard: the public API. Named exports only (test/index.test.ts pins this list).
 */

// Errors
export { AbortError, AudioError, BackendError, InputError, NativeError, VoiceSoundboardError } from './errors.js';
export type { ErrorOptions } from './errors.js';

// Engine
export { VoiceEngine } from './engine/voice-engine.js';
export type { RegistrarReader } from './engine/registrar-reader.js';
export { speakOptionsSchema, voiceEngineOptionsSchema } from './engine/engine-options.js';
export type { PlayOptions, SpeakOptions, SpeechProgress, VoiceEngineOptions } from './engine/engine-options.js';
export type { AudioChunk, Degradation, EngineHealth, PlayResult, SpeechLoudness, SpeechResult } from './engine/speech-types.js';
export { DROP_POLICIES, SCHEDULE_DEFAULTS, SCHEDULE_POLICIES } from './streaming/schedule-policy.js';
export type { DropPolicy, PriorityInput, SchedulePolicy } from './streaming/schedule-policy.js';
export type { GainTarget, ScheduleEntryView, ScheduleView } from './streaming/scheduler.js';
export type { TicketState } from './streaming/schedule-core.js';
export type { Heard, HeardLevel, HeardWord } from './streaming/heard.js';
export type { TextStreamOptions } from './streaming/text-source.js';
export type { SpeakToFileOptions, SpeechFileResult } from './engine/voice-engine.js';
export type { LoudnessMode } from './engine/speech-file.js';

// Conversations (issue 14, conversation part): multi-speaker dialogue, turn-taking, timelines, subtitles
export { Conversation } from './conversation/conversation.js';
export type { ConversationRenderOptions, ConversationSpeechResult } from './conversation/conversation.js';
export type { ConversationPlayOptions, ConversationPlayResult, LiveTurnResult } from './conversation/live.js';
export type { ConversationEnd } from './conversation/turn-watch.js';
export type { TimelineEntry } from './conversation/timeline.js';
export { DEFAULT_GAP_MS, DEFAULT_VOICES } from './conversation/turns.js';
export type { CastEntry, CastEntryInput, ConversationOptions, ConversationTurn, ConversationTurnInput } from './conversation/turns.js';
export type { RenderedConversation, RenderedTurn, SpatialPosition } from './conversation/types.js';

// Control plane: registrar and attestations
export { AudioRegistrar } from './registrar/registrar.js';
export type { AttachOptions, AudioRegistrarOptions, RegistrarRequest, RegistrarShare } from './registrar/registrar.js';
export {
  AccessibilityBypassError,
  RegistrarDeniedError,
  RegistrarHaltedError,
  RegistrarReplayError,
  RegistrarRequiredError,
  RegistrarShareError,
} from './registrar/errors.js';
export type { RegistrarShareErrorCode } from './registrar/errors.js';
export { verify } from './registrar/verify.js';
export type { VerifyOptions, VerifyProblem, VerifyReport } from './registrar/verify.js';
export { negotiateVersion, REGISTRAR_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS } from './registrar/version.js';
export { DOMAIN_INVARIANT_IDS, INVARIANT_IDS, STRUCTURAL_INVARIANT_IDS } from './registrar/invariants.js';
export { ACTOR_KINDS, REASON_CODES, STREAM_STATES, TRANSITION_ACTIONS } from './registrar/core.js';
export type { ActorKind, DecisionCore, ReasonCode, StreamState, TransitionAction } from './registrar/core.js';
export { ReferenceCore } from './registrar/reference-core.js';
export { createDefaultCore } from './registrar/default-core.js';
export type { HaltCause, HaltInfo, InvariantDescription, MembershipView, OverrideView, Permit, PermitExpectation, RegistrarResult, ResultDurability, StreamView, TransitionEvent, OverrideEvent } from './registrar/types.js';
export type { RegisterActorOptions } from './registrar/membership.js';
export { ActorHandle } from './registrar/actor-handle.js';
export type { RegistrarSnapshot } from './registrar/snapshot.js';
export type { Actor, ActorRef, RegistrarConfig } from './registrar/request-schema.js';
export { AttestationStore } from './attestation/store.js';
export type { AttestationStoreOptions, ChainHead, OpenReport } from './attestation/store.js';
export { AttestationLogReader, iterateAttestationLog, readAttestationLog } from './attestation/log-reader.js';
export type { LogIterationOptions, LogReadout, TornTail } from './attestation/log-reader.js';
export type { DurabilityMode, DurableLogOptions } from './attestation/log-options.js';
export { ATTESTATION_FIELDS, ATTESTATION_VERSION } from './attestation/record.js';
export type { Attestation, Violation } from './attestation/record.js';
export { AttestationError } from './attestation/errors.js';
export type { AttestationQuery } from './attestation/query.js';
// Tamper evidence: signed checkpoints and snapshots
export { verifyLog } from './attestation/verify-log.js';
export type { LogProblem, LogVerifyReport, SignatureReport, VerifyLogOptions } from './attestation/verify-log.js';
export { checkpointPath } from './attestation/checkpoint.js';
export type { Checkpoint } from './attestation/checkpoint.js';
export type { CheckpointAnchor, SigningOptions } from './attestation/signing-options.js';
export { publicKeyPemOf } from './attestation/signing.js';
export type { PrivateKeyInput, PrivateKeySource, PublicKeyInput } from './attestation/signing.js';
export { signSnapshot } from './registrar/snapshot-signature.js';
export type { ReplayOptions, RestoreOptions } from './registrar/replay.js';

// Compiler and graph
export {
  compile,
  compileOptionsSchema,
  COMPILER_ERROR_CODES,
  EMOTION_NAMES,
  EMOTIONS,
  normalizeText,
  planSynthesis,
  PRESET_NAMES,
  PRESETS,
  SentenceStream,
  splitSentences,
} from './compiler/index.js';
export type {
  AudioStep,
  CompileOptions,
  EmotionName,
  LanguageNormalizer,
  MarkStep,
  PresetName,
  SilenceStep,
  SpeechStep,
  SynthesisStep,
} from './compiler/index.js';
export { SPEECH_GRAPH_VERSION } from './graph/speech-graph.js';
export type { Annotations, AudioNode, EventNode, NodeTiming, SilenceNode, SpeechGraph, SpeechNode, SsmlNode, TextNode } from './graph/speech-graph.js';
export { parseSpeechGraph, speechGraphSchema } from './graph/speech-graph-schema.js';
export { withMeasuredDurations } from './graph/graph-timing.js';
export { ENGINE_OUTPUT_VERSION, NEUTRAL_PROSODY } from './graph/engine-output.js';
export type { EngineOutput, EngineOutputMetadata, Prosody, SynthesisOptions, SynthesisSegment, VisemeEvent, WordTiming, WordTimingSource } from './graph/engine-output.js';

// Backends
export { BaseBackend, DEFAULT_BACKEND_POLICY } from './backends/backend.js';
export type { BackendCapabilities, BackendHealth, BackendMetrics, BackendPolicy, SpeechBackend, VoiceInfo } from './backends/backend.js';
export { BackendRegistry, BUILTIN_BACKEND_NAMES, BUILTIN_BACKENDS, createBackend } from './backends/registry.js';
export type { BackendAvailability, BackendAvailabilityStatus, BackendConstructor, BackendDescriptor, BuiltinBackendName } from './backends/registry.js';
export { DEFAULT_VOICE_CACHE_TTL_MS, VoiceCatalogue, voiceFilterSchema } from './backends/catalogue.js';
export type { CatalogueFailure, CatalogueResult, VoiceCatalogueOptions, VoiceFilter } from './backends/catalogue.js';
export { FallbackChain, FallbackExhaustedError } from './backends/fallback.js';
export type { FallbackChainOptions, FallbackEntry, FallbackFailure, FallbackResult } from './backends/fallback.js';
export { ESPEAK_DEFAULT_VOICE, ESPEAK_SAMPLE_RATE_HZ, EspeakBackend, espeakBackendOptionsSchema } from './backends/espeak.js';
export type { EspeakBackendOptions } from './backends/espeak.js';
export { phonemize } from './backends/phonemize.js';
export { OVR_VISEMES, OVR_VISEME_TABLE, visemeOf } from './backends/visemes.js';
export type { OvrViseme } from './backends/visemes.js';
export type { PhonemizeOptions } from './backends/phonemize.js';
export { KokoroBackend, kokoroOptionsSchema } from './backends/kokoro.js';
export type { KokoroOptions } from './backends/kokoro.js';
export { PiperBackend, piperOptionsSchema } from './backends/piper.js';
export type { PiperOptions } from './backends/piper.js';
export { OpenAIBackend } from './backends/openai.js';
export type { OpenAIBackendOptions } from './backends/openai.js';
export { ElevenLabsBackend } from './backends/elevenlabs.js';
export type { ElevenLabsBackendOptions } from './backends/elevenlabs.js';
export { AzureBackend } from './backends/azure.js';
export type { AzureBackendOptions, AzurePcmFormat } from './backends/azure.js';

// Audio
export { AudioOutput, audioOutputOptionsSchema } from './audio/output.js';
export type { AudioOutputConfig, AudioOutputInfo, AudioOutputOptions, AudioOutputStats, AudioWaitOptions } from './audio/output.js';
export { AudioVoice } from './audio/voice.js';
export type { AudioVoiceEvent, AudioVoiceEventKind, AudioVoiceOptions, AudioVoiceState, AudioVoiceStats, AudioVoiceWaitOptions } from './audio/voice.js';
export type { NativeStreamWatch } from './native/registrar-binding.js';
export { AUDIO_BACKEND_ENV, listOutputDevices } from './audio/devices.js';
export type { AudioBackendName, OutputDevice } from './audio/devices.js';
export { concatPcm, f32leToFloat32, float32ToF32le, float32ToS16le, s16leToFloat32 } from './audio/pcm.js';
export { decodeWav, encodeWav, wavStreamHeader } from './audio/wav.js';
export type { DecodedWav, EncodeWavOptions, WavSampleFormat } from './audio/wav.js';
export { resample, Resampler } from './audio/resampler.js';
export type { ResamplerOptions } from './audio/resampler.js';
export { convertChannels, monoToStereo, stereoToMono } from './audio/channels.js';
export { measureLoudness, normalizeLoudness } from './audio/loudness.js';
export { limitTruePeak, TruePeakLimiter } from './audio/limiter.js';
export type { LimiterReport, TruePeakLimiterOptions } from './audio/limiter.js';
export type { LoudnessMeasurement, LoudnessOptions, NormalizedLoudness, NormalizeLoudnessOptions } from './audio/loudness.js';
export { AUDIO_FORMATS, availableFormats, encodeAudio, formatFromExtension, formatInfo } from './audio/encode.js';
export type { AudioFormat, EncodeAudioOptions, FormatAvailability, PcmFormat } from './audio/encode.js';
export { encodeAudioStream } from './audio/encode-stream.js';
export { AudioFileWriter, writeAudioFile } from './audio/file-writer.js';
export type { AudioFileWriterOptions, WriteAudioFileOptions, WrittenAudioFile } from './audio/file-writer.js';

// Plugins (issue 12): API, loader, sandbox
export { PLUGIN_API_VERSION, PLUGIN_HOOKS, PLUGIN_PERMISSIONS, loadPluginOptionsSchema, pluginManifestSchema, sandboxLimitsSchema } from './plugins/manifest.js';
export type { HookPolicy, LoadPluginOptions, PluginEntry, PluginHookName, PluginManifest, PluginPermission, SandboxLimits } from './plugins/manifest.js';
export { PluginError } from './plugins/errors.js';
export type { PluginErrorCode } from './plugins/errors.js';
export type { PluginFault, PluginInfo } from './plugins/plugin.js';
export type { ChunkView, GraphMutation, GraphView, ScheduleProposal } from './plugins/hook-io.js';
export type { QueueView } from './plugins/plugin-set.js';
export { inspectPlugin, pluginsFromPackageJson } from './plugins/loader.js';
export type { PluginInspection } from './plugins/loader.js';
// Scenes (issue 14, scene part): layers, procedural library, ducking, panning, JSON scene files
export { Scene } from './scene/scene.js';
export type { BedOptions, DialogueOptions, DialogueSource, EffectOptions, SceneFileOptions, SceneRenderOptions } from './scene/scene.js';
export { loadSceneFile, sceneFromJson } from './scene/scene-file.js';
export { AMBIANCE_GENERATORS, EFFECT_GENERATORS } from './scene/procedural.js';
export type { AmbianceGenerator, EffectGenerator, EffectParams, PlanarAudio } from './scene/procedural.js';
export { LAYER_KINDS, sceneFileSchema } from './scene/scene-schema.js';
export type { GeneratorContext, LayerKind, SceneEffectInput, SceneFile, SceneLayerInput, SceneOptions, SoundGenerator } from './scene/scene-schema.js';
export type { RenderedLayerInfo, RenderedScene } from './scene/render.js';
export type { SceneEngine } from './scene/scene-engine.js';
export type { Level } from './scene/levels.js';
export type { MixLimits, PlayableMix, RenderedMix } from './scene/playable.js';
// MCP server (issue 11) and the per-client RateLimiter it uses
export { createMcpServer, MCP_EXTENSION, mcpServerOptionsSchema, VoiceMcpServer } from './mcp/server.js';
export type { McpLogger, McpServerOptions, McpSessionInfo } from './mcp/server.js';
export { MCP_HTTP_PATH, mcpHttpOptionsSchema, serveMcpHttp } from './mcp/http.js';
export type { McpHttpOptions, McpHttpServer, McpSessionHost } from './mcp/http.js';
export { LineStdioTransport } from './mcp/stdio-transport.js';
export { MCP_LIMITS } from './mcp/schemas.js';
export type { StreamNotice } from './mcp/agent-session.js';
export { RateLimiter, rateLimiterOptionsSchema } from './security/rate-limiter.js';
export type { RateDecision, RateLimiterOptions } from './security/rate-limiter.js';
// Security (issue 13): input validation, safe SSML, secrets, audit log, content filter, model pins
export { InputValidator, inputValidatorOptionsSchema } from './security/input-validator.js';
export type { InputValidatorOptions, ValidatedText } from './security/input-validator.js';
export { escapeXml, ssml } from './security/ssml-template.js';
export { visibleText } from './security/visible-text.js';
export { SecretError, SecretManager } from './security/secrets.js';
export type { SecretAccessListener, SecretManagerOptions, SecretSource } from './security/secrets.js';
export { AUDIT_EVENTS, AuditLogger } from './security/audit-log.js';
export type { AuditContext, AuditEvent, AuditLoggerOptions } from './security/audit-log.js';
export { allow, auditedContentFilter, ContentFilterDeniedError, deny, replace } from './security/content-filter.js';
export type { ContentFilter, ContentFilterContext, ContentFilterDecision } from './security/content-filter.js';
export { verifyModelFile } from './security/model-verify.js';
export type { ModelPins } from './security/model-verify.js';
// Watermark and compliance metadata (issue 13, docs/WATERMARK.md)
export { applyWatermark, createWatermarkEmbedder, detectWatermark, watermarkId, watermarkOptionsSchema, WatermarkEmbedder } from './security/watermark.js';
export type { WatermarkAudio, WatermarkDetection, WatermarkOptions } from './security/watermark.js';
export { complianceTags } from './security/compliance-tags.js';
export type { ComplianceSource, ComplianceTags } from './security/compliance-tags.js';
export { inspectAudioFile } from './security/inspect-file.js';
export type { AudioFileInspection, InspectOptions } from './security/inspect-file.js';
export { readWavInfo } from './audio/wav-info.js';
