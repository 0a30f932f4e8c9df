/**
 * Loading a plugin: resolves a specifier (a package name, resolved from the host's directory) or a
 * path to one file, reads it on the host (a regular file of at most MAX_PLUGIN_SOURCE_BYTES: a FIFO
 * or a device in its place is refused, never waited on), runs it in its runtime (an isolate in a
 * sandbox process of its own unless `trusted`),
 * validates its manifest (apiVersion, hooks it exports, permissions) and registers its own actor
 * `plugin:<name>` whose handle its `request()` is bound to. Also reads the host package.json's
 * `voice-soundboard.plugins` field.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { checkRegularFile, readRegularFile } from '../audio/input-file.js';
import { TRANSITION_ACTIONS } from '../registrar/core.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import { RegistrarRequiredError } from '../registrar/errors.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import { PluginError } from './errors.js';
import { IsolateRuntime } from './isolate-runtime.js';
import { PLUGIN_API_VERSION, PLUGIN_PERMISSIONS, REGISTRAR_BYPASS_PERMISSIONS, pluginEntrySchema, pluginManifestSchema, type ParsedLoadPluginOptions, type PluginEntry, type PluginManifest, type PluginPermission } from './manifest.js';
import { messageOf, type PluginRuntime, type RequestBridge } from './runtime.js';
import { TrustedRuntime } from './trusted-runtime.js';

/** Largest plugin file the loader reads (one bundled module). */
export const MAX_PLUGIN_SOURCE_BYTES = 16 * 1024 * 1024;

/** What a plugin's `request()` may carry: never an actor (it always acts as its own). */
const pluginRequestSchema = z.strictObject({
  action: z.enum(TRANSITION_ACTIONS),
  target: z.string().min(1).max(200).nullish(),
  reason: z.string().max(1000).optional(),
  metadata: z.record(z.string(), z.json()).optional(),
});

/**
 * Metadata only a stream's creator or an override's owner states, which a plugin never is. The
 * registrar keeps each session, user, override scope, grant set and set of override values it is
 * told of for good (fixed-size tables, filled before the decision, even by a denied request), so a
 * plugin naming new ones on every call would fill them and deny users their overrides.
 */
const OWNER_METADATA = ['sessionId', 'userId', 'allowPlugins', 'scope', 'scopeId', 'speechRate', 'pauseAmplification', 'forcedCaptions'] as const;

/** Resolves a plugin source to a file: a path (absolute, or relative to `fromDir`) or a package specifier. */
export function resolvePluginPath(source: string, fromDir: string = process.cwd()): string {
  if (isAbsolute(source) || source.startsWith('./') || source.startsWith('../') || /\.[cm]?js$/.test(source)) return resolve(fromDir, source);
  try {
    return createRequire(join(fromDir, 'package.json')).resolve(source);
  } catch (error) {
    throw new PluginError('PLUGIN_NOT_FOUND', source, `cannot resolve ${JSON.stringify(source)} from ${fromDir}: ${messageOf(error)}`, { cause: error });
  }
}

/** Validates a manifest read from a plugin: schema, API version, permissions (bypass → RegistrarRequiredError). */
export function validateManifest(value: unknown, label: string, functions: readonly string[]): PluginManifest {
  const parsed = pluginManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? ['manifest', ...issue.path.map(String)].join('.') : 'manifest';
    const what = value === undefined ? 'the module exports no `manifest`' : `${field}: ${issue?.message ?? 'invalid'}`;
    throw new PluginError('PLUGIN_MANIFEST_INVALID', label, what);
  }
  const manifest = parsed.data;
  if (manifest.apiVersion !== PLUGIN_API_VERSION) {
    throw new PluginError('PLUGIN_API_VERSION', manifest.name, `manifest.apiVersion is ${JSON.stringify(manifest.apiVersion)}, but this engine speaks plugin API ${PLUGIN_API_VERSION}`);
  }
  for (const permission of manifest.permissions) {
    if ((REGISTRAR_BYPASS_PERMISSIONS as readonly string[]).includes(permission)) {
      throw new RegistrarRequiredError(
        `plugin ${manifest.name} asks for permission ${JSON.stringify(permission)}, an effect without a registrar decision: a plugin changes nothing but through request() as plugin:${manifest.name}, which the registrar decides`,
      );
    }
    if (!(PLUGIN_PERMISSIONS as readonly string[]).includes(permission)) {
      throw new PluginError('PLUGIN_MANIFEST_INVALID', manifest.name, `manifest.permissions: unknown permission ${JSON.stringify(permission)} (expected ${PLUGIN_PERMISSIONS.join(', ')})`);
    }
  }
  const missing = manifest.hooks.filter((hook) => !functions.includes(hook));
  if (missing.length > 0) throw new PluginError('PLUGIN_MANIFEST_INVALID', manifest.name, `manifest.hooks names ${missing.join(', ')}, which the module does not export as functions`);
  return { ...manifest, permissions: manifest.permissions as PluginPermission[] };
}

/** A plugin's request bridge: validates, refuses a named actor, asks the registrar as `handle()`. */
export function requestBridge(registrar: AudioRegistrar, label: () => string, handle: () => ActorHandle | undefined, mode: 'isolate' | 'trusted'): RequestBridge {
  return (input) => {
    const name = label();
    if (typeof input === 'object' && input !== null && 'actor' in input) {
      throw new PluginError('PLUGIN_FORGED_ACTOR', name, `request() acts only as plugin:${name}; it may not name an actor (received actor ${JSON.stringify((input as { actor: unknown }).actor)?.slice(0, 100)})`);
    }
    const parsed = pluginRequestSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PluginError('PLUGIN_OUTPUT_INVALID', name, `request(): ${issue ? ['request', ...issue.path.map(String)].join('.') : 'request'}: ${issue?.message ?? 'invalid'}`);
    }
    const stated = OWNER_METADATA.find((field) => parsed.data.metadata !== undefined && Object.hasOwn(parsed.data.metadata, field));
    if (stated !== undefined) {
      throw new PluginError('PLUGIN_OUTPUT_INVALID', name, `request(): request.metadata.${stated}: a plugin creates no stream and holds no override, so it may not state one's ${stated}`);
    }
    // The one request a plugin's own actor can have allowed is a granted mutate_graph before the
    // commit, and through request() no graph is behind it: the log would attest a mutation (and a
    // graphHash of the plugin's choosing) that was never synthesized. A plugin mutates a graph by
    // returning mutations from onGraph: the host applies them and asks with the applied graph's
    // hash. After the commit the registrar decides (commit_boundary, attested).
    if (parsed.data.action === 'mutate_graph' && typeof parsed.data.target === 'string' && registrar.getState(parsed.data.target)?.state === 'compiling') {
      throw new PluginError('PLUGIN_OUTPUT_INVALID', name, 'request(): request.action: mutate_graph is asked by the host with the graph it applies; return the mutations from onGraph instead');
    }
    const actor = handle();
    if (!actor) throw new PluginError('PLUGIN_LOAD_FAILED', name, 'request() before the plugin was registered');
    const { metadata, ...rest } = parsed.data;
    const result = registrar.request({ ...rest, actor, metadata: { ...(metadata ?? {}), pluginMode: mode } });
    return { allowed: result.allowed, decision: result.decision, reason: result.reason, message: result.message, streamId: result.streamId, seq: result.attestation.seq };
  };
}

/** A plugin's code running, with its manifest validated (not yet registered as an actor). */
export interface StartedPlugin {
  manifest: PluginManifest;
  runtime: PluginRuntime;
  path: string;
  /** Sets the handle the plugin's `request()` acts as. */
  bind(handle: ActorHandle): void;
}

/** Reads and starts the plugin at `source` and validates its manifest. The runtime is disposed on failure. */
export async function startPlugin(source: string, options: ParsedLoadPluginOptions, registrar: AudioRegistrar, fromDir?: string): Promise<StartedPlugin> {
  const path = resolvePluginPath(source, fromDir);
  let label = source;
  let handle: ActorHandle | undefined;
  const mode = options.trusted ? 'trusted' : 'isolate';
  const bridge = requestBridge(registrar, () => label, () => handle, mode);
  let runtime: PluginRuntime;
  if (options.trusted) {
    try {
      await checkRegularFile(path, MAX_PLUGIN_SOURCE_BYTES);
    } catch (error) {
      throw new PluginError('PLUGIN_NOT_FOUND', source, `cannot read ${path}: ${messageOf(error)}`, { cause: error });
    }
    runtime = await TrustedRuntime.load(() => label, path, options.limits.maxCpuMs, bridge);
  } else {
    let code: string;
    try {
      // A regular file only, read to a bound: a FIFO or a device would hang or flood the loader.
      code = new TextDecoder().decode(await readRegularFile(path, MAX_PLUGIN_SOURCE_BYTES));
    } catch (error) {
      throw new PluginError('PLUGIN_NOT_FOUND', source, `cannot read ${path}: ${messageOf(error)}`, { cause: error });
    }
    runtime = await IsolateRuntime.start(() => label, code, path, options.limits, bridge);
  }
  try {
    const manifest = validateManifest(runtime.exports.manifest, source, runtime.exports.functions);
    label = manifest.name;
    return { manifest, runtime, path, bind: (given) => (handle = given) };
  } catch (error) {
    runtime.dispose();
    throw error;
  }
}

/** The `voice-soundboard.plugins` entries of the package.json in `dir` (empty when there is none). */
export async function pluginsFromPackageJson(dir: string = process.cwd()): Promise<PluginEntry[]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch {
    return [];
  }
  const json = JSON.parse(text) as { 'voice-soundboard'?: { plugins?: unknown } };
  const list = json['voice-soundboard']?.plugins;
  if (list === undefined) return [];
  const parsed = z.array(pluginEntrySchema).max(64).safeParse(list);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PluginError('PLUGIN_MANIFEST_INVALID', join(dir, 'package.json'), `"voice-soundboard".plugins.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** What `inspectPlugin` reports: the validated manifest and where it came from, or why it cannot load. */
export type PluginInspection =
  | { source: string; ok: true; path: string; mode: 'isolate' | 'trusted'; manifest: PluginManifest }
  | { source: string; ok: false; code: string; error: string };

/** Loads a plugin in a throwaway sandbox (never trusted) to read and validate its manifest, then unloads it. */
export async function inspectPlugin(source: string, registrar: AudioRegistrar, fromDir?: string): Promise<PluginInspection> {
  try {
    const started = await startPlugin(source, { grant: [], trusted: false, limits: { maxMemoryMb: 32, maxCpuMs: 50, networkAccess: false }, policy: {}, maxFaults: 3 }, registrar, fromDir);
    started.runtime.dispose();
    return { source, ok: true, path: started.path, mode: started.runtime.mode, manifest: started.manifest };
  } catch (error) {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'PLUGIN_LOAD_FAILED';
    return { source, ok: false, code, error: messageOf(error) };
  }
}
