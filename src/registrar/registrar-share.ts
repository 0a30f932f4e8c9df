/**
 * What a registrar hands to another thread so that it can decide on the same registrar
 * (`registrar.share()` → `AudioRegistrar.attach(share)`): a structured-cloneable object, passed by
 * `workerData` or `postMessage`. Its `token` is the capability (the native core's share token:
 * whoever holds it decides as anyone), `doorbell` the shared buffer threads wake each other with.
 *
 * What attaching needs to know of the writer's log is not in the share but in the core, stored
 * once by the writer (`ShareInfo`): the log's id prefix (record-ids.ts), the ids of live streams'
 * last records from before it, and the doorbell's key, so a share carrying another buffer, or a
 * token of a core no registrar writes for, is refused.
 */
import { z } from 'zod';
import { RegistrarShareError } from './errors.js';
import { DOORBELL_BYTES } from './doorbell.js';

/** A shared registrar, as another thread receives it (see the file comment). */
export interface RegistrarShare {
  /** The core's share token: the capability to decide as anyone on this registrar. */
  readonly token: string;
  /** The doorbell (a SharedArrayBuffer of DOORBELL_BYTES). */
  readonly doorbell: SharedArrayBuffer;
}

/** zod schema of a share as given to `AudioRegistrar.attach`. */
export const registrarShareSchema = z.strictObject({
  token: z.string().min(1).max(64),
  doorbell: z.custom<SharedArrayBuffer>(
    (value) => value instanceof SharedArrayBuffer && value.byteLength === DOORBELL_BYTES,
    `expected the SharedArrayBuffer of ${DOORBELL_BYTES} bytes from registrar.share()`,
  ),
});

/** What the writer stores in the core for attaching registrars (JSON). */
export interface ShareInfo {
  /** The log's id prefix and the first seq whose id it derives. */
  ids: { prefix: string; baseSeq: number };
  /** Last attestation ids of live streams whose last record is older than `baseSeq`. */
  legacy: [string, string][];
  /** The doorbell's key (Doorbell.key). */
  bell: string;
  /**
   * The writer's durability promise, which every attached registrar keeps: how its log keeps
   * records (`result.durability` of every thread's results) and whether audible effects wait for
   * their record to be on disk (`effectsAwaitDurability`: an attached registrar may ask for it
   * too, never for less).
   */
  durability: { mode: 'fsync' | 'group' | 'memory'; effectsAwait: boolean };
}

const shareInfoSchema = z.strictObject({
  ids: z.strictObject({ prefix: z.string().uuid(), baseSeq: z.number().int().min(1) }),
  legacy: z.array(z.tuple([z.string(), z.string()])),
  bell: z.string().min(1),
  durability: z.strictObject({ mode: z.enum(['fsync', 'group', 'memory']), effectsAwait: z.boolean() }),
});

/** Parses the share info read from a core; throws REGISTRAR_SHARE_INVALID when there is none. */
export function parseShareInfo(text: string | undefined): ShareInfo {
  if (text === undefined) {
    throw new RegistrarShareError('REGISTRAR_SHARE_INVALID', 'this token opens a core no registrar writes a log for: share with registrar.share(), not a core\'s shareToken');
  }
  const parsed = shareInfoSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new RegistrarShareError('REGISTRAR_SHARE_INVALID', 'the core\'s share info is not one this version writes');
  return parsed.data;
}
