import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

// The public API, pinned: adding or removing an export is a deliberate change to this list.
const EXPORTS = [
    'ACTOR_KINDS', 'ATTESTATION_FIELDS', 'ActorHandle', 'ATTESTATION_VERSION', 'AUDIO_FORMATS', 'AbortError',
    'AccessibilityBypassError', 'AttestationError', 'AttestationLogReader', 'AttestationStore', 'AudioError', 'AudioFileWriter',
    'AudioOutput', 'AudioRegistrar', 'AzureBackend', 'BUILTIN_BACKENDS', 'BUILTIN_BACKEND_NAMES',
    'BackendError', 'BackendRegistry', 'BaseBackend', 'COMPILER_ERROR_CODES', 'DEFAULT_BACKEND_POLICY',
    'DEFAULT_VOICE_CACHE_TTL_MS', 'DOMAIN_INVARIANT_IDS', 'EMOTIONS', 'EMOTION_NAMES',
    'ENGINE_OUTPUT_VERSION', 'ESPEAK_DEFAULT_VOICE', 'ESPEAK_SAMPLE_RATE_HZ', 'ElevenLabsBackend',
    'EspeakBackend', 'FallbackChain', 'FallbackExhaustedError', 'INVARIANT_IDS', 'InputError',
    'KokoroBackend', 'NEUTRAL_PROSODY', 'NativeError', 'OpenAIBackend', 'PRESETS', 'PRESET_NAMES',
    'PiperBackend', 'REASON_CODES', 'REGISTRAR_SCHEMA_VERSION', 'ReferenceCore', 'RegistrarDeniedError',
    'RegistrarHaltedError', 'RegistrarReplayError', 'RegistrarRequiredError', 'RegistrarShareError', 'Resampler',
    'SPEECH_GRAPH_VERSION', 'STREAM_STATES', 'STRUCTURAL_INVARIANT_IDS', 'SUPPORTED_SCHEMA_VERSIONS',
    'SentenceStream', 'TRANSITION_ACTIONS', 'VoiceCatalogue', 'VoiceEngine', 'VoiceSoundboardError',
    'audioOutputOptionsSchema', 'availableFormats', 'compile', 'compileOptionsSchema', 'concatPcm',
    'convertChannels', 'createBackend', 'createDefaultCore', 'decodeWav', 'encodeAudio', 'encodeAudioStream',
    'encodeWav', 'espeakBackendOptionsSchema', 'f32leToFloat32', 'float32ToF32le', 'float32ToS16le',
    'formatFromExtension', 'formatInfo', 'iterateAttestationLog', 'kokoroOptionsSchema', 'measureLoudness', 'monoToStereo',
    'negotiateVersion', 'normalizeLoudness', 'normalizeText', 'parseSpeechGraph', 'phonemize',
    'piperOptionsSchema', 'planSynthesis', 'readAttestationLog', 'resample', 's16leToFloat32',
    'speakOptionsSchema', 'speechGraphSchema', 'splitSentences', 'stereoToMono', 'verify',
    'voiceEngineOptionsSchema', 'voiceFilterSchema', 'wavStreamHeader', 'withMeasuredDurations',
    'writeAudioFile', 'verifyLog', 'checkpointPath', 'publicKeyPemOf', 'signSnapshot',
    'DROP_POLICIES', 'SCHEDULE_DEFAULTS', 'SCHEDULE_POLICIES',
    'AudioVoice', 'AUDIO_BACKEND_ENV', 'listOutputDevices',
    'TruePeakLimiter', 'limitTruePeak',
    'OVR_VISEMES', 'OVR_VISEME_TABLE', 'visemeOf',
    // plugins (issue 12)
    'PLUGIN_API_VERSION', 'PLUGIN_HOOKS', 'PLUGIN_PERMISSIONS', 'loadPluginOptionsSchema', 'pluginManifestSchema', 'sandboxLimitsSchema', 'PluginError', 'inspectPlugin', 'pluginsFromPackageJson',
    // scenes (issue 14)
    'Scene', 'loadSceneFile', 'sceneFromJson', 'AMBIANCE_GENERATORS', 'EFFECT_GENERATORS', 'LAYER_KINDS', 'sceneFileSchema',
    'Conversation', 'DEFAULT_GAP_MS', 'DEFAULT_VOICES',
    // MCP (issue 11)
    'createMcpServer', 'MCP_EXTENSION', 'mcpServerOptionsSchema', 'VoiceMcpServer', 'MCP_HTTP_PATH', 'mcpHttpOptionsSchema',
    'serveMcpHttp', 'LineStdioTransport', 'MCP_LIMITS', 'RateLimiter', 'rateLimiterOptionsSchema',
    // Security (issue 13)
    'InputValidator', 'inputValidatorOptionsSchema', 'escapeXml', 'ssml', 'visibleText', 'SecretError', 'SecretManager',
    'AUDIT_EVENTS', 'AuditLogger', 'allow', 'auditedContentFilter', 'ContentFilterDeniedError', 'deny', 'replace', 'verifyModelFile',
    // watermark and compliance metadata
    'applyWatermark', 'createWatermarkEmbedder', 'detectWatermark', 'watermarkId', 'watermarkOptionsSchema', 'WatermarkEmbedder',
    'complianceTags', 'inspectAudioFile', 'readWavInfo',
];

describe('package exports', () => {
  it('exports exactly the pinned names', () => {
    expect(Object.keys(api).sort()).toEqual([...EXPORTS].sort());
  });

  it('the built package exposes the same names', async () => {
    const specifier = '../dist/index.js';
    const built = (await import(specifier)) as Record<string, unknown>;
    expect(Object.keys(built).sort()).toEqual([...EXPORTS].sort());
  });
});
