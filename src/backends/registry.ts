/**
 * The backend registry: creates a backend by name with options validated by that backend's zod
 * schema, and lists the known backends with their availability. Every backend except the default
 * voice (espeak) is imported lazily, on first use, so a missing optional dependency (onnxruntime,
 * a backend not built yet) makes that one backend unavailable, never the registry or espeak.
 */
import { z } from 'zod';
import { BackendError, InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import type { SpeechBackend } from './backend.js';
import { EspeakBackend } from './espeak.js';

/** Names of the built-in backends. */
export const BUILTIN_BACKEND_NAMES = ['espeak', 'kokoro', 'piper', 'openai', 'elevenlabs', 'azure'] as const;

/** A built-in backend's name. */
export type BuiltinBackendName = (typeof BUILTIN_BACKEND_NAMES)[number];

/**
 * Whether a backend can be used: `ready` = can be created with no options and reports itself ok;
 * `needs-options` = its code loads but it needs options (model paths, an API key); `unavailable` =
 * its code or a dependency is missing, or it reports itself unavailable.
 */
export type BackendAvailabilityStatus = 'ready' | 'needs-options' | 'unavailable';

/** One row of `BackendRegistry.list()`. */
export interface BackendAvailability {
  name: string;
  description: string;
  /** Needs network access (a cloud API). */
  remote: boolean;
  status: BackendAvailabilityStatus;
  /** What is missing or which path is used. */
  detail: string;
}

/** How the registry knows one backend. */
export interface BackendDescriptor {
  name: string;
  description: string;
  remote: boolean;
  /** Loads the backend's code; rejects when it or a dependency is missing. */
  load(): Promise<BackendConstructor>;
  /** Set when the backend cannot be created without options; says which. */
  requiredOptions?: string;
}

/** A backend class: its constructor validates its own options (throwing `InputError`). */
export type BackendConstructor = new (options: never) => SpeechBackend;

/**
 * Imports `./<file>.js` next to this module and returns its export `exportName` if it is a class.
 * The specifier is a variable on purpose: a backend file that is absent makes this one entry
 * unavailable at run time instead of failing type-checking or loading of the registry.
 */
async function loadSibling(file: string, exportName: string): Promise<BackendConstructor> {
  const specifier = `./${file}.js`;
  const module = (await import(specifier)) as Record<string, unknown>;
  const constructor = module[exportName];
  if (typeof constructor !== 'function') throw new Error(`${specifier} does not export ${exportName}`);
  return constructor as BackendConstructor;
}

/** The built-in backends. */
export const BUILTIN_BACKENDS: readonly BackendDescriptor[] = Object.freeze([
  {
    name: 'espeak',
    description: 'espeak-ng: the embedded default voice, offline, no model files (system program or WASM build)',
    remote: false,
    load: async () => EspeakBackend as BackendConstructor,
  },
  {
    name: 'kokoro',
    description: 'Kokoro-82M neural voices on onnxruntime-node, from model and voices files you provide',
    remote: false,
    load: () => loadSibling('kokoro', 'KokoroBackend'),
    requiredOptions: 'modelPath and voicesPath',
  },
  {
    name: 'piper',
    description: 'Piper neural voices on onnxruntime-node, from a .onnx voice and its .onnx.json you provide',
    remote: false,
    load: () => loadSibling('piper', 'PiperBackend'),
    requiredOptions: 'modelPath',
  },
  { name: 'openai', description: 'OpenAI text-to-speech API', remote: true, load: () => loadSibling('openai', 'OpenAIBackend') },
  { name: 'elevenlabs', description: 'ElevenLabs text-to-speech API', remote: true, load: () => loadSibling('elevenlabs', 'ElevenLabsBackend') },
  { name: 'azure', description: 'Azure AI Speech text-to-speech API', remote: true, load: () => loadSibling('azure', 'AzureBackend') },
]);

const nameSchema = z.string().min(1, 'expected a backend name');
const descriptorSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lowercase name such as "my-backend"'),
    description: z.string().min(1),
    remote: z.boolean(),
    load: z.custom<BackendDescriptor['load']>((value) => typeof value === 'function', 'expected a function returning the backend class'),
    requiredOptions: z.string().min(1).optional(),
  })
  .strict();

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Known backends by name. */
export class BackendRegistry {
  private readonly descriptors = new Map<string, BackendDescriptor>();

  /** Starts with `descriptors` (default: the built-in backends). */
  constructor(descriptors: readonly BackendDescriptor[] = BUILTIN_BACKENDS) {
    for (const descriptor of descriptors) this.register(descriptor);
  }

  /** Adds a backend; throws `InputError` for a malformed descriptor or a name already taken. */
  register(descriptor: BackendDescriptor): void {
    const parsed = parseInput(descriptorSchema, descriptor, 'descriptor');
    if (this.descriptors.has(parsed.name)) {
      throw new InputError(`descriptor.name: a backend named ${JSON.stringify(parsed.name)} is already registered`, { field: 'descriptor.name', code: 'BACKEND_DUPLICATE' });
    }
    this.descriptors.set(parsed.name, descriptor);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.descriptors.keys()];
  }

  /**
   * Creates the backend `name` with `options` (validated by the backend's own schema: a bad field
   * throws `InputError` naming `<name>.<field>`). Rejects with `InputError` for an unknown name and
   * with `BackendError` `BACKEND_UNAVAILABLE` when the backend's code cannot be loaded.
   */
  async create(name: string, options: unknown = {}): Promise<SpeechBackend> {
    const descriptor = this.descriptor(name);
    let constructor: BackendConstructor;
    try {
      constructor = await descriptor.load();
    } catch (error) {
      throw new BackendError(descriptor.name, 'BACKEND_UNAVAILABLE', `not available: ${reason(error)}`, { cause: error });
    }
    return new constructor(options as never);
  }

  /**
   * Every registered backend with its availability. Loads each backend's code; backends that need
   * no options are created, asked for `health()` and closed again (no network call is made by the
   * built-in cloud backends for this: they check for credentials only).
   */
  async list(): Promise<BackendAvailability[]> {
    return Promise.all([...this.descriptors.values()].map((descriptor) => this.probe(descriptor)));
  }

  private descriptor(name: string): BackendDescriptor {
    const parsedName = parseInput(nameSchema, name, 'backend');
    const descriptor = this.descriptors.get(parsedName);
    if (!descriptor) {
      throw new InputError(`backend: unknown backend ${JSON.stringify(parsedName)} (expected one of ${this.names().join(', ')})`, { field: 'backend', code: 'BACKEND_UNKNOWN' });
    }
    return descriptor;
  }

  private async probe(descriptor: BackendDescriptor): Promise<BackendAvailability> {
    const row = { name: descriptor.name, description: descriptor.description, remote: descriptor.remote };
    let constructor: BackendConstructor;
    try {
      constructor = await descriptor.load();
    } catch (error) {
      return { ...row, status: 'unavailable', detail: `not available: ${reason(error)}` };
    }
    if (descriptor.requiredOptions) return { ...row, status: 'needs-options', detail: `needs ${descriptor.requiredOptions}` };
    let backend: SpeechBackend | undefined;
    try {
      backend = new constructor({} as never);
      const health = await backend.health();
      if (health.status === 'ok') return { ...row, status: 'ready', detail: health.detail ?? 'ok' };
      // A loaded local backend that is not ok lacks something on the machine; a remote one lacks credentials.
      return { ...row, status: descriptor.remote ? 'needs-options' : 'unavailable', detail: health.detail ?? health.status };
    } catch (error) {
      return { ...row, status: 'needs-options', detail: reason(error) };
    } finally {
      await backend?.close();
    }
  }
}

/** Creates a built-in backend by name (see `BackendRegistry.create`). */
export function createBackend(name: string, options: unknown = {}): Promise<SpeechBackend> {
  return new BackendRegistry().create(name, options);
}
