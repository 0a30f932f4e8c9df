/**
 * SinkBook: the open device sinks of one registrar's streams, obeying the registrar. It subscribes
 * to transitions and halts, so whoever makes an allowed interrupt, stop or fail (the owner, a
 * user's override, a system preemption, another thread), the stream's sink closes in the same
 * call that decided it; a halt of any cause closes every sink. Decisions and halts made on other
 * threads of a shared registrar arrive through the same listeners: the registrar wakes on its
 * doorbell when another thread decides (Atomics.waitAsync, no polling) and tells them within that
 * event-loop turn (registrar.ts, log-writer.ts).
 */
import type { AudioOutput } from '../audio/output.js';
import type { AudioVoiceOptions } from '../audio/voice.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { Permit } from '../registrar/types.js';
import { closureOf, StreamSink } from './stream-sink.js';

/** The open sinks of one registrar. Owned by one JS thread. */
export class SinkBook {
  readonly #registrar: AudioRegistrar;
  readonly #sinks = new Map<string, StreamSink>();
  readonly #unsubscribe: (() => void)[];

  /** Subscribes to `registrar` (its transitions and halts, on every thread of it). */
  constructor(registrar: AudioRegistrar) {
    this.#registrar = registrar;
    this.#unsubscribe = [
      registrar.onTransition((event) => {
        const sink = this.#sinks.get(event.streamId);
        const closure = sink ? closureOf(event) : null;
        if (sink && closure) sink.close(closure);
      }, { phase: 'effect' }),
      registrar.onHalt((halt) => {
        for (const sink of [...this.#sinks.values()]) {
          sink.close({ action: 'halt', actor: null, attestationId: halt.attestationId, seq: halt.seq, reason: `${halt.cause}: ${halt.message}` });
        }
      }, { phase: 'effect' }),
    ];
  }

  /** Opens the sink of an allowed `play` (see StreamSink.open) and tracks it until it closes. */
  open(permit: Permit, output: AudioOutput, voice: AudioVoiceOptions = {}): StreamSink {
    const sink = StreamSink.open(this.#registrar, permit, output, voice);
    this.#sinks.set(sink.streamId, sink);
    sink.onClose(() => {
      if (this.#sinks.get(sink.streamId) === sink) this.#sinks.delete(sink.streamId);
    });
    return sink;
  }

  /** The open sink of a stream, if any. */
  get(streamId: string): StreamSink | undefined {
    return this.#sinks.get(streamId);
  }

  /** Stops listening (the open sinks stay as they are). */
  dispose(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(SinkBook.prototype);
Object.freeze(SinkBook);
