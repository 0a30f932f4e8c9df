/**
 * The audio plane's part of the addon (native/binding/audio_wrap.cc, ring_wrap.cc,
 * audio_device_wrap.cc). Every method is synchronous. Failures throw an `Error` with a string
 * `code` (e.g. `AUDIO_DEVICE_CLOSED`, `AUDIO_DEVICE_INIT_FAILED`, `AUDIO_PCM_MISALIGNED`).
 */
import type { NativeStreamWatch } from './registrar-binding.js';

/** Options of `new AudioDevice(...)`; already validated by the caller (src/audio/output.ts). */
export interface NativeAudioDeviceOptions {
  /** `'default'`: miniaudio's platform backend order; `'null'`: paced in real time, no sound card. */
  backend: 'default' | 'null';
  sampleRateHz: number;
  channels: number;
  /** Frames per device callback. */
  periodFrames: number;
  /** Capacity of the playback ring. */
  bufferFrames: number;
  /** Capacity of the capture ring; 0 turns capture off. */
  captureFrames: number;
  /** A playback device's id or name (see `listOutputDevices`); absent: the backend's default device. */
  device?: string;
}

/** One playback device a backend offers. */
export interface NativeOutputDevice {
  /** The backend's own device id as text (stable for a backend and device). */
  id: string;
  /** The backend's human-readable name. */
  name: string;
  isDefault: boolean;
  /** miniaudio's backend name (`'ALSA'`, `'PulseAudio'`, `'Null'`, ...). */
  backend: string;
}

/** Counters of one voice; `phase`: 0 pending, 1 playing, 2 fading, 3 interrupted, 4 drained. */
export interface NativeVoiceStats {
  framesPlayed: number;
  underruns: number;
  droppedFrames: number;
  bufferedFrames: number;
  phase: number;
  ended: boolean;
  interruptRequested: boolean;
}

/** Counters of a device, read from atomics the callback keeps. */
export interface NativeAudioDeviceStats {
  /** Frames taken from the default ring and from every voice and output (faded ones included). */
  framesPlayed: number;
  /**
   * Periods padded with silence because the ring ran dry (silence after an interrupt excluded).
   * A started device with nothing queued counts one per period: compare deltas while streaming,
   * or stop() the device between utterances.
   */
  underruns: number;
  /** Silent frames written because of underruns. */
  starvedFrames: number;
  /** Frames dropped from the ring by interrupts. */
  droppedFrames: number;
  /** Output frames the full capture ring could not take. */
  captureOverflowFrames: number;
  /** Periods rendered so far. */
  callbacks: number;
  /** Frames the device has output (every period's frames). */
  deviceFrames: number;
  /** Voices opened and not yet freed (closed voices count until the callback lets go of them). */
  liveVoices: number;
  /** Voice events dropped because the event ring was full. */
  droppedEvents: number;
  /** Frames waiting in the ring. */
  bufferedFrames: number;
  /** Interrupts requested so far. */
  interruptGeneration: number;
  /** The last interrupt whose fade and drop the callback has finished. */
  completedInterruptGeneration: number;
  /** Milliseconds since the callback last ran; null before the first callback. */
  msSinceLastCallback: number | null;
  /** An interrupt is in force: output is silent and writes are dropped until `resume()`. */
  interrupted: boolean;
  started: boolean;
  closed: boolean;
}

/** A miniaudio playback device fed from a native SPSC ring (one producer: the owning JS thread). */
export interface NativeAudioDevice {
  /** Queues interleaved PCM; returns the frames accepted (0 when the ring is full). Never blocks. */
  write(pcm: Float32Array): number;
  /** Starts the callback. Write a period or more first to avoid start-up underruns. */
  start(): void;
  /** Stops the callback; what the ring holds stays for the next start(). */
  stop(): void;
  /** Stops the device and joins its thread. Idempotent; stats() stays readable. */
  close(): void;
  /** Fades out within 5 ms on the next period, then silence, dropping queued PCM until resume(). Returns the interrupt generation. */
  interrupt(): number;
  /** Ends the interrupt in force: PCM written from now on plays, everything before it is dropped. */
  resume(): void;
  /** A snapshot of the counters. */
  stats(): NativeAudioDeviceStats;
  /** Copies captured device output into `out`; returns the frames copied (AUDIO_CAPTURE_DISABLED without capture). */
  readCapture(out: Float32Array): number;
  /** Runs the callback's render function once on this thread (device stopped); returns its cost in ns. */
  renderForBenchmark(frames: number): number;
  /** Frames one interrupt fade lasts (5 ms at the device rate). */
  readonly fadeFrames: number;
  /** The backend actually opened (`'Null'`, `'ALSA'`, ...). */
  readonly backendName: string;
  /** The playback device actually opened. */
  readonly deviceName: string;
  /** Opens a voice with its own ring of `bufferFrames` at linear `gain`; returns its id (AUDIO_NO_FREE_VOICE when all 64 are in use). */
  openVoice(bufferFrames: number, gain: number): number;
  /** Queues PCM on a voice; returns the frames accepted (AUDIO_VOICE_ENDED / AUDIO_VOICE_INTERRUPTED / AUDIO_VOICE_CLOSED). */
  voiceWrite(id: number, pcm: Float32Array): number;
  /** No more input: the voice drains. */
  voiceEnd(id: number): void;
  /** Fades this voice only to zero within 5 ms from the next period, then drops what it holds. */
  voiceInterrupt(id: number): void;
  /** Makes the voice fade out (as voiceInterrupt) from the first period its stream no longer plays
   *  or its core halted; false when the watch's core is gone. Throws AUDIO_VOICE_WATCHED the second time. */
  voiceWatch(id: number, watch: NativeStreamWatch): boolean;
  /** Ramps the voice's linear gain to `gain` over `rampFrames` frames. */
  voiceSetGain(id: number, gain: number, rampFrames: number): void;
  /** The voice's counters (also while a closed voice fades out, until it is freed). */
  voiceStats(id: number): NativeVoiceStats;
  /** Retires the voice (a playing one fades out first); false when no voice has that id. */
  voiceClose(id: number): boolean;
  /** Drains voice events into `out`, 4 numbers each (voice id, kind, device frame, voice frame); returns how many. */
  pollEvents(out: Float64Array): number;
}

/** The native SPSC ring of interleaved float32 frames, both ends on the calling thread. */
export interface NativePcmRingBuffer {
  /** Copies in as many whole frames as fit; returns the frames accepted. */
  write(pcm: Float32Array): number;
  /** Copies up to `out.length / channels` frames out; returns the frames copied. */
  read(out: Float32Array): number;
  /** Drops everything queued; returns the frames dropped. */
  discardAll(): number;
  availableToRead(): number;
  availableToWrite(): number;
  readonly capacityFrames: number;
  readonly channels: number;
}

/** The audio plane's exports. */
export interface AudioBinding {
  AudioDevice: new (options: NativeAudioDeviceOptions) => NativeAudioDevice;
  PcmRingBuffer: new (capacityFrames: number, channels: number) => NativePcmRingBuffer;
  /** Names of the backends compiled into miniaudio, in its priority order (e.g. `['PulseAudio', 'ALSA', 'Null']`). */
  listBackends(): string[];
  /** The playback devices of a backend. */
  listOutputDevices(backend: 'default' | 'null'): NativeOutputDevice[];
}
