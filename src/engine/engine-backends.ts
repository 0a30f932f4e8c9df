/**
 * EngineBackends: the speech backends of one engine. The main backend (the `backend` option, and
 * its `fallback` chain when there is one) is created on first use and shared; a call's `backend`
 * option names another, created once and kept. Only backends created here (by name) are closed
 * by `closeCreated()`: instances the caller passed in stay the caller's.
 */
import type { SpeechBackend } from '../backends/backend.js';
import { FallbackChain } from '../backends/fallback.js';
import type { BackendRegistry } from '../backends/registry.js';
import type { ParsedEngineOptions } from './engine-options.js';

/** What the backends are made from: the engine's validated backend options. */
export type BackendChoice = Pick<ParsedEngineOptions, 'backend' | 'backendOptions' | 'fallback'>;

/** The main backend and the named ones of one engine, created on first use. */
export class EngineBackends {
  readonly #registry: BackendRegistry;
  readonly #choice: BackendChoice;
  readonly #named = new Map<string, Promise<SpeechBackend>>();
  /** Backends created here (by name): the only ones `closeCreated()` closes. */
  readonly #created = new Set<Promise<SpeechBackend>>();
  #main: Promise<SpeechBackend> | undefined;

  /** Backends of `choice`, named ones made by `registry`; nothing is created yet. */
  constructor(registry: BackendRegistry, choice: BackendChoice) {
    this.#registry = registry;
    this.#choice = choice;
  }

  /** The main backend (a FallbackChain when fallbacks are configured). */
  async main(): Promise<SpeechBackend> {
    this.#main ??= (async () => {
      const refs = [this.#choice.backend, ...(this.#choice.fallback ?? [])];
      const backends = await Promise.all(refs.map((ref, index) => this.#resolve(ref, index === 0 ? this.#choice.backendOptions : undefined)));
      const [first] = backends;
      if (backends.length === 1 && first) return first;
      return new FallbackChain(backends);
    })();
    return this.#main;
  }

  /** The backend a call names (the main one when it names none, or the main one's name). */
  async forName(name: string | undefined): Promise<SpeechBackend> {
    if (name === undefined) return this.main();
    const main = typeof this.#choice.backend === 'string' ? this.#choice.backend : undefined;
    if (name === main) return this.main();
    let created = this.#named.get(name);
    if (!created) {
      created = this.#registry.create(name);
      this.#created.add(created);
      this.#named.set(name, created);
      created.catch(() => this.#named.delete(name));
    }
    return created;
  }

  /** Closes every backend created here (failures to create or close are ignored). */
  async closeCreated(): Promise<void> {
    const backends = await Promise.allSettled([...this.#created]);
    await Promise.allSettled(backends.flatMap((entry) => (entry.status === 'fulfilled' ? [entry.value.close()] : [])));
  }

  #resolve(ref: string | SpeechBackend, options: Record<string, unknown> | undefined): Promise<SpeechBackend> {
    if (typeof ref !== 'string') return Promise.resolve(ref);
    const created = this.#registry.create(ref, options ?? {});
    this.#created.add(created);
    return created;
  }
}

// Hardening, as VoiceEngine: no caller can swap a method of this class for its own (a patched prototype would reach every engine).
Object.freeze(EngineBackends.prototype);
Object.freeze(EngineBackends);
