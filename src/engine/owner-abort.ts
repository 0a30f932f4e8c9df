/**
 * The caller's abort of a run without a device (`speak()`, `stream()`, `speakToFile()` without
 * `play`) as the owner's request to end its stream, as play()'s abort is (play-guards.ts,
 * `callerAbort`): the engine's actor asks (stop once the stream plays, fail before) and the
 * registrar decides, so the log names who asked, never the runtime. The run itself gets no caller
 * signal: an allowed end reaches it as any decision does (running-streams.ts), and the call
 * rejects AbortError. A refused one (a user's accessibility override over an agent's stream) cuts
 * nothing: the stream is synthesized to its end, every chunk still yielded, its natural end
 * attested, and the call then rejects REGISTRAR_DENIED; only the consumer's own break (it stops
 * taking chunks) ends it earlier. A halt's error wins over both.
 */
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import { abortRefusedError, callerAbort, callerAbortError, endedOtherwise } from './play-guards.js';
import type { AudioChunk } from './speech-types.js';
import type { Utterance } from './utterance.js';

/** Who decides a run's caller abort: the registrar, asked as the stream's `owner`. */
export interface OwnerAbortContext {
  registrar: AudioRegistrar;
  owner: ActorHandle;
}

/**
 * `run`'s chunks (a run started without the caller's signal) with `signal`'s abort as the owner's
 * request to end `utterance`'s stream; see the module comment. `face` names the call in errors.
 */
export async function* ownerAbortable(context: OwnerAbortContext, utterance: Utterance, signal: AbortSignal | undefined, face: string, run: AsyncGenerator<AudioChunk, void, undefined>): AsyncGenerator<AudioChunk, void, undefined> {
  const { registrar, owner } = context;
  const abort = callerAbort(registrar, owner, () => utterance.lifecycle.streamId);
  const halted = (): boolean => utterance.halted || registrar.halted;
  signal?.addEventListener('abort', abort.onAbort, { once: true });
  try {
    if (signal?.aborted) abort.onAbort();
    // Aborted before the run began, and ended by the owner: the run is never started (nothing to undo).
    const ended = callerAbortError(abort, halted(), signal, face);
    if (ended) {
      await run.return();
      throw ended;
    }
    try {
      yield* run;
    } catch (error) {
      throw callerAbortError(abort, halted(), signal, face) ?? error;
    }
  } finally {
    signal?.removeEventListener('abort', abort.onAbort);
  }
  const aborted = callerAbortError(abort, halted(), signal, face);
  if (aborted) throw aborted;
  if (abort.denial && !halted()) throw abortRefusedError(abort.denial, face, endedOtherwise(utterance) ?? 'it was synthesized to its end');
}
