/**
 * The voice catalogue: one searchable list of the voices of several backends, filtered by
 * language, gender, style and backend. Each backend's list is fetched once and cached for a while
 * (cloud backends list voices over the network); a backend whose listing fails is left out and
 * reported, it does not hide the voices of the others.
 */
import { z } from 'zod';
import { parseInput } from '../validation.js';
import type { SpeechBackend, VoiceInfo } from './backend.js';
import type { BackendRegistry } from './registry.js';

/** Zod schema of a catalogue query; every field optional. */
export const voiceFilterSchema = z
  .object({
    /**
     * BCP-47 language. `en` matches every English voice (`en`, `en-US`, `en-GB`); `en-US` matches
     * `en-US` voices and, ranked after them, voices for plain `en`. Case-insensitive.
     */
    language: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/, 'expected a BCP-47 language such as "en" or "en-US"').optional(),
    gender: z.enum(['female', 'male', 'neutral']).optional(),
    /** A style the voice offers (e.g. `cheerful`), case-insensitive. */
    style: z.string().min(1).optional(),
    /** Only this backend's voices. */
    backend: z.string().min(1).optional(),
  })
  .strict();

/** A catalogue query (see `voiceFilterSchema`). */
export type VoiceFilter = z.input<typeof voiceFilterSchema>;

/** A backend whose voices could not be listed. */
export interface CatalogueFailure {
  backend: string;
  message: string;
}

/** Voices found and the backends that could not be asked. */
export interface CatalogueResult {
  voices: VoiceInfo[];
  failures: CatalogueFailure[];
}

/** Options of the catalogue. */
export interface VoiceCatalogueOptions {
  /** How long a backend's voice list is reused (default 5 minutes; 0 = always ask). */
  cacheTtlMs?: number;
  /** Clock, injectable for tests. */
  nowMs?: () => number;
}

const optionsSchema = z
  .object({
    cacheTtlMs: z.number().int().min(0).optional(),
    nowMs: z.custom<() => number>((value) => typeof value === 'function', 'expected a function returning ms').optional(),
  })
  .strict();

/** Default cache lifetime of a backend's voice list. */
export const DEFAULT_VOICE_CACHE_TTL_MS = 5 * 60_000;

function normaliseLanguage(language: string): string {
  return language.toLowerCase().replaceAll('_', '-');
}

/**
 * How well `voiceLanguages` match `wanted`: 0 = a language equal to it or more specific
 * (`en` wanted, `en-GB` offered), 1 = a broader one (`en-US` wanted, `en` offered), undefined = none.
 */
function languageRank(voiceLanguages: readonly string[], wanted: string): number | undefined {
  let best: number | undefined;
  for (const offered of voiceLanguages.map(normaliseLanguage)) {
    if (offered === wanted || offered.startsWith(`${wanted}-`)) return 0;
    if (wanted.startsWith(`${offered}-`)) best = 1;
  }
  return best;
}

/** The voices of several backends, searchable as one list. */
export class VoiceCatalogue {
  private readonly members: SpeechBackend[];
  private readonly cacheTtlMs: number;
  private readonly nowMs: () => number;
  private readonly cache = new Map<SpeechBackend, { voices: Promise<VoiceInfo[]>; fetchedAtMs: number }>();
  private readonly notCreated: CatalogueFailure[];

  /** Catalogue of `backends`' voices (in this order). */
  constructor(backends: readonly SpeechBackend[], options: VoiceCatalogueOptions = {}, notCreated: readonly CatalogueFailure[] = []) {
    const parsed = parseInput(optionsSchema, options, 'catalogue.options');
    this.members = [...backends];
    this.cacheTtlMs = parsed.cacheTtlMs ?? DEFAULT_VOICE_CACHE_TTL_MS;
    this.nowMs = parsed.nowMs ?? Date.now;
    this.notCreated = [...notCreated];
  }

  /**
   * A catalogue over every backend of `registry` that can be created: those given options in
   * `optionsByName`, and those `ready` without options. The others appear in `search().failures`
   * with the reason. The caller owns the created backends (`backends()`, close them when done).
   */
  static async fromRegistry(registry: BackendRegistry, optionsByName: Readonly<Record<string, unknown>> = {}, options: VoiceCatalogueOptions = {}): Promise<VoiceCatalogue> {
    const rows = await registry.list();
    const created: SpeechBackend[] = [];
    const notCreated: CatalogueFailure[] = [];
    for (const row of rows) {
      const backendOptions = optionsByName[row.name];
      if (backendOptions === undefined && row.status !== 'ready') {
        notCreated.push({ backend: row.name, message: `${row.status}: ${row.detail}` });
        continue;
      }
      try {
        created.push(await registry.create(row.name, backendOptions ?? {}));
      } catch (error) {
        notCreated.push({ backend: row.name, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return new VoiceCatalogue(created, options, notCreated);
  }

  /** The backends this catalogue lists. */
  backends(): SpeechBackend[] {
    return [...this.members];
  }

  /**
   * Voices matching `filter` (throws `InputError` naming a bad field), best language match first,
   * then in backend order. Backends whose listing fails are skipped; see `search` for why.
   */
  async voices(filter: VoiceFilter = {}): Promise<VoiceInfo[]> {
    return (await this.search(filter)).voices;
  }

  /** Like `voices`, and also names the backends that could not list their voices. */
  async search(filter: VoiceFilter = {}): Promise<CatalogueResult> {
    const parsed = parseInput(voiceFilterSchema, filter, 'filter');
    const wantedLanguage = parsed.language === undefined ? undefined : normaliseLanguage(parsed.language);
    const wantedStyle = parsed.style?.toLowerCase();
    const backends = this.members.filter((backend) => parsed.backend === undefined || backend.name === parsed.backend);
    const lists = await Promise.allSettled(backends.map((backend) => this.list(backend)));
    const failures = this.notCreated.filter((failure) => parsed.backend === undefined || failure.backend === parsed.backend);
    const ranked: Array<{ voice: VoiceInfo; rank: number; order: number }> = [];
    lists.forEach((list, backendIndex) => {
      if (list.status === 'rejected') {
        const reason: unknown = list.reason;
        failures.push({ backend: backends[backendIndex]?.name ?? 'unknown', message: reason instanceof Error ? reason.message : String(reason) });
        return;
      }
      for (const voice of list.value) {
        if (parsed.gender !== undefined && voice.gender !== parsed.gender) continue;
        if (wantedStyle !== undefined && !(voice.styles ?? []).some((style) => style.toLowerCase() === wantedStyle)) continue;
        const rank = wantedLanguage === undefined ? 0 : languageRank(voice.languages, wantedLanguage);
        if (rank === undefined) continue;
        ranked.push({ voice, rank, order: ranked.length });
      }
    });
    ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
    return { voices: ranked.map((entry) => entry.voice), failures };
  }

  /** Forgets cached lists so the next query asks every backend again. */
  refresh(): void {
    this.cache.clear();
  }

  private list(backend: SpeechBackend): Promise<VoiceInfo[]> {
    const cached = this.cache.get(backend);
    if (cached && this.nowMs() - cached.fetchedAtMs < this.cacheTtlMs) return cached.voices;
    const voices = backend.voices();
    this.cache.set(backend, { voices, fetchedAtMs: this.nowMs() });
    // A failed listing is not kept: the next query tries again.
    voices.catch(() => {
      if (this.cache.get(backend)?.voices === voices) this.cache.delete(backend);
    });
    return voices;
  }
}
