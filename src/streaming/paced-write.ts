/**
 * Paced writes for real-time mode: what a play queues ahead of the device stays under a limit
 * (one device period + 20 ms, at most `maxLatencyMs`), so an interrupt, a preemption or a newer
 * stream never waits behind a long write-ahead. The writer queues only the room left under the
 * limit and sleeps about a period while there is none; the synthesis generator upstream is pulled
 * only when a chunk is fully written, so synthesis pauses too (backpressure, no queue of chunks).
 * A device that stops rendering while the writer waits (stopped, or lost) rejects the write with
 * AudioError `AUDIO_DEVICE_STOPPED`: a paced write never waits forever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AudioError, InputError } from '../errors.js';
import { SCHEDULE_DEFAULTS } from './schedule-policy.js';

/** Where a paced write goes: a stream's sink (StreamSink). */
export interface PacedSink {
  /** Queues all of `pcm`; rejects when the sink closes. */
  write(pcm: Float32Array): Promise<number>;
  /** Frames queued so far. */
  readonly framesWritten: number;
  /** Frames of this stream the device has played so far. */
  playedFrames(): number;
  /** Whether the device renders (false: stopped by its host, or lost). */
  deviceStarted(): boolean;
}

/** The device facts a paced write needs. */
export interface PacedDevice {
  sampleRateHz: number;
  channels: number;
  periodFrames: number;
}

/**
 * The write-ahead limit of real-time mode, in frames: one device period plus 20 ms, capped by
 * `maxLatencyMs`. Throws InputError naming `maxLatencyMs` when it is below one device period
 * (every period would underrun).
 */
export function realtimeLimitFrames(device: Pick<PacedDevice, 'sampleRateHz' | 'periodFrames'>, maxLatencyMs: number): number {
  const periodMs = (1000 * device.periodFrames) / device.sampleRateHz;
  if (maxLatencyMs < periodMs) {
    throw new InputError(`maxLatencyMs: ${maxLatencyMs} ms is below one device period (${periodMs.toFixed(2)} ms): raise it or use a device with a smaller periodFrames`, { field: 'maxLatencyMs' });
  }
  const headroomFrames = Math.floor((SCHEDULE_DEFAULTS.realtimeHeadroomMs * device.sampleRateHz) / 1000);
  const capFrames = Math.floor((maxLatencyMs * device.sampleRateHz) / 1000);
  return Math.min(capFrames, device.periodFrames + headroomFrames);
}

/**
 * The ring of a play's voice, in frames: outside real-time mode `SCHEDULE_DEFAULTS.writeAheadMs`
 * (or the output's own ring when larger), so short stalls of the JS thread never underrun; in
 * real-time mode the output's ring (the paced writes keep what is queued far below it anyway).
 */
export function writeAheadFrames(device: Pick<PacedDevice, 'sampleRateHz'> & { bufferFrames: number }, realtime: boolean): number {
  if (realtime) return device.bufferFrames;
  return Math.max(device.bufferFrames, Math.round((SCHEDULE_DEFAULTS.writeAheadMs * device.sampleRateHz) / 1000));
}

/**
 * Writes `pcm` to `sink` without letting what the sink has queued ahead of the device (written −
 * played) pass `limitFrames`; rejects like the sink's own write when the sink closes meanwhile.
 */
export async function writePaced(sink: PacedSink, pcm: Float32Array, device: PacedDevice, limitFrames: number): Promise<number> {
  const { channels, sampleRateHz, periodFrames } = device;
  const totalFrames = pcm.length / channels;
  const periodMs = (1000 * periodFrames) / sampleRateHz;
  let writtenFrames = 0;
  while (writtenFrames < totalFrames) {
    const roomFrames = limitFrames - (sink.framesWritten - sink.playedFrames());
    if (roomFrames <= 0) {
      // About a period: the device takes a period at a time, so room comes back in period steps.
      await sleep(Math.max(1, periodMs));
      // A sink closed meanwhile rejects here, with the decision that closed it.
      await sink.write(new Float32Array(0));
      if (!sink.deviceStarted()) throw new AudioError('AUDIO_DEVICE_STOPPED', `paced write: the device stopped rendering with ${totalFrames - writtenFrames} frames left to write`);
      continue;
    }
    const frames = Math.min(roomFrames, totalFrames - writtenFrames);
    writtenFrames += await sink.write(pcm.subarray(writtenFrames * channels, (writtenFrames + frames) * channels));
  }
  return writtenFrames;
}

