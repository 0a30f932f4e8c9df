/**
 * The plugin contract: the manifest every plugin exports (`export const manifest = {...}`), the
 * hook names, the permissions a plugin may ask for, the sandbox limits and the options of
 * `engine.loadPlugin`. All validated with zod; a bad field is a PluginError naming it.
 */
import { z } from 'zod';

/** The plugin API version this engine speaks; a manifest's `apiVersion` must equal it. */
export const PLUGIN_API_VERSION = '1';

/** Hook points, one per layer: compiler (2), runtime, audio, backends. */
export const PLUGIN_HOOKS = ['transformText', 'onGraph', 'onSchedule', 'onAudio', 'synthesize'] as const;
/** A hook name. */
export type PluginHookName = (typeof PLUGIN_HOOKS)[number];

/**
 * Permissions a plugin may ask for. `mutate_graph` only asks: the owner grants it (`grant`), and the
 * registrar decides each mutation. (Every hook may call `request()`: the registrar decides each one.)
 */
export const PLUGIN_PERMISSIONS = ['mutate_graph'] as const;
/** A permission name. */
export type PluginPermission = (typeof PLUGIN_PERMISSIONS)[number];

/**
 * Permissions no plugin can hold because they would be effects without a registrar decision
 * (asking for one makes `loadPlugin` throw RegistrarRequiredError).
 */
export const REGISTRAR_BYPASS_PERMISSIONS = ['stream_state', 'device_write', 'act_as_host', 'lifecycle', 'network', 'filesystem', 'process'] as const;

const nameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a lowercase name such as "my-plugin"');

/** Schema of a plugin's manifest (permissions are checked separately, to name bypass attempts). */
export const pluginManifestSchema = z.strictObject({
  name: nameSchema,
  version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/, 'expected a semver version such as "1.0.0"'),
  apiVersion: z.string().min(1).max(20),
  hooks: z.array(z.enum(PLUGIN_HOOKS)).min(1).max(PLUGIN_HOOKS.length),
  permissions: z.array(z.string().min(1).max(64)).max(16).default([]),
  description: z.string().max(500).optional(),
});
/** A validated manifest. */
export type PluginManifest = z.output<typeof pluginManifestSchema> & { permissions: PluginPermission[] };

/** Sandbox limits (2.4 roadmap): memory and CPU per call; the network is never on in the isolate. */
export const sandboxLimitsSchema = z.strictObject({
  /** Heap of the plugin's isolate in MB (8-1024, default 32); past it the isolate is killed and replaced. */
  maxMemoryMb: z.number().int().min(8).max(1024).default(32),
  /** CPU time one hook call may take in ms (1-10 000, default 50); past it the call is killed. */
  maxCpuMs: z.number().int().min(1).max(10_000).default(50),
  /** Always false: an isolate has no network. A plugin that needs data gets it from the host, through hook arguments. */
  networkAccess: z.literal(false, { message: 'networkAccess: the isolate never has network access; pass data to the plugin through the host' }).default(false),
});
/** Sandbox limits as callers write them. */
export type SandboxLimits = z.input<typeof sandboxLimitsSchema>;

/** What a hook fault does: `skip` (the stream goes on without the hook's effect) or `fail` (the stream fails, attested). */
export const hookPolicySchema = z.enum(['skip', 'fail']);
/** A hook fault policy. */
export type HookPolicy = z.output<typeof hookPolicySchema>;

/** Options of `engine.loadPlugin(source, options)` and of a `plugins` entry. */
export const loadPluginOptionsSchema = z.strictObject({
  /** Permissions the stream owner grants (only those the manifest asks for take effect). */
  grant: z.array(z.enum(PLUGIN_PERMISSIONS)).max(PLUGIN_PERMISSIONS.length).default([]),
  /** Run in-process without a sandbox (explicit opt-in; labelled `trusted` in health and attestations). */
  trusted: z.boolean().default(false),
  /** Sandbox limits. */
  limits: sandboxLimitsSchema.default({ maxMemoryMb: 32, maxCpuMs: 50, networkAccess: false }),
  /** Per-hook fault policy (default `skip` for every hook). */
  policy: z.partialRecord(z.enum(PLUGIN_HOOKS), hookPolicySchema).default({}),
  /** Faults after which the plugin is disabled (default 3). */
  maxFaults: z.number().int().min(1).max(1000).default(3),
});
/** Options of `loadPlugin` as callers write them. */
export type LoadPluginOptions = z.input<typeof loadPluginOptionsSchema>;
/** Parsed options of `loadPlugin`. */
export type ParsedLoadPluginOptions = z.output<typeof loadPluginOptionsSchema>;

/** A `plugins` entry of the engine options (or of package.json's `voice-soundboard.plugins`): a source, or a source with options. */
export const pluginEntrySchema = z.union([
  z.string().min(1).max(4096),
  z.strictObject({ source: z.string().min(1).max(4096), ...loadPluginOptionsSchema.shape }),
]);
/** A `plugins` entry as callers write it. */
export type PluginEntry = z.input<typeof pluginEntrySchema>;
