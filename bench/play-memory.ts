/**
 * `npm run bench:play-memory -- [seconds=90]`: RSS of `engine.play()` over a long text, printed
 * as it plays. miniaudio's null device is paced in real time (a faster sample rate is not faster),
 * so N seconds of audio take N seconds: by default each mode plays 90 s and the growth per
 * minute of audio is extrapolated to 10 minutes (labelled so); `seconds=600` plays the real 10
 * minutes. Each mode runs in its own child process, all at once (they mostly sleep), with
 * `--expose-gc`: every sample is taken after a full GC, so it shows what is retained.
 *   bounded  engine.play(text)                           (the default: nothing kept)
 *   live     engine.play(tokens)                         (a live text source, word by word)
 *   retain   engine.play(text, { retainAudio: true })    (the baseline in the same run: every chunk kept)
 * The speech is a fixture backend's known signal (test/helpers/signal-backend.ts, 24 kHz mono,
 * 100 ms chunks, 2 s sentences): the engine and device path alone, no synthesis cost.
 * Prints RSS and array-buffer bytes every 10 s of audio, the slope per minute of audio (least
 * squares after a 20 s warm-up: start-up memory is returned in the first seconds) and its ratio to the baseline's.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RATE_HZ = 24_000;
const CHUNK_FRAMES = 2_400;
const CHUNKS_PER_SENTENCE = 20;
const SAMPLE_EVERY_S = 10;
const WARMUP_S = 20;
const MODES = ['bounded', 'live', 'retain'] as const;
type Mode = (typeof MODES)[number];

interface Sample {
  audioS: number;
  rssMb: number;
  arrayBuffersMb: number;
  heapMb: number;
}

const mb = (bytes: number) => bytes / (1024 * 1024);

async function child(mode: Mode, seconds: number): Promise<void> {
  const { AudioOutput } = await import('../src/audio/output.js');
  const { VoiceEngine } = await import('../src/engine/voice-engine.js');
  const { SignalBackend } = await import('../test/helpers/signal-backend.js');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1 });
  const engine = new VoiceEngine({ backend: new SignalBackend({ sampleRateHz: RATE_HZ, framesPerChunk: CHUNK_FRAMES, chunksPerSegment: CHUNKS_PER_SENTENCE }), output });
  const sentenceS = (CHUNK_FRAMES * CHUNKS_PER_SENTENCE) / RATE_HZ;
  // Sentence pauses add audio too: a few sentences fewer than the bare count, cut at `seconds` anyway.
  const sentences = Math.ceil(seconds / sentenceS);
  const words = Array.from({ length: sentences }, (_, index) => `Sentence ${index + 1} of the long text.`);
  const report = (sample: Sample) => process.stdout.write(`${JSON.stringify(sample)}\n`);
  const sampleNow = () => {
    gc();
    const usage = process.memoryUsage();
    report({ audioS: output.stats().deviceFrames / RATE_HZ, rssMb: mb(usage.rss), arrayBuffersMb: mb(usage.arrayBuffers), heapMb: mb(usage.heapUsed) });
  };
  const controller = new AbortController();
  async function* tokens(): AsyncGenerator<string> {
    for (const sentence of words) for (const word of sentence.split(' ')) yield `${word} `;
  }
  const text = mode === 'live' ? tokens() : words.join(' ');
  const playing = engine.play(text, { retainAudio: mode === 'retain', signal: controller.signal }).catch((error: unknown) => {
    if (!controller.signal.aborted) throw error;
  });
  let next = 0;
  const timer = setInterval(() => {
    const audioS = output.stats().deviceFrames / RATE_HZ;
    if (audioS >= next) {
      sampleNow();
      next += SAMPLE_EVERY_S;
    }
    if (audioS >= seconds) controller.abort();
  }, 250);
  await playing;
  clearInterval(timer);
  await engine.close();
  output.close();
}

function slope(samples: readonly Sample[], field: 'rssMb' | 'arrayBuffersMb'): number {
  const points = samples.filter((sample) => sample.audioS >= WARMUP_S);
  if (points.length < 2) return Number.NaN;
  const meanX = points.reduce((sum, point) => sum + point.audioS, 0) / points.length;
  const meanY = points.reduce((sum, point) => sum + point[field], 0) / points.length;
  const covariance = points.reduce((sum, point) => sum + (point.audioS - meanX) * (point[field] - meanY), 0);
  const variance = points.reduce((sum, point) => sum + (point.audioS - meanX) ** 2, 0);
  return (covariance / variance) * 60; // MB per minute of audio
}

function runChild(mode: Mode, seconds: number): Promise<Sample[]> {
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, '--child', mode, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const samples: Sample[] = [];
  let buffered = '';
  proc.stdout.on('data', (data: Buffer) => {
    buffered += data.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const sample = JSON.parse(line) as Sample;
      samples.push(sample);
      console.log(`${mode.padEnd(8)} audio ${sample.audioS.toFixed(0).padStart(4)} s  RSS ${sample.rssMb.toFixed(1).padStart(6)} MB  arrayBuffers ${sample.arrayBuffersMb.toFixed(2).padStart(7)} MB  heap ${sample.heapMb.toFixed(1).padStart(6)} MB`);
    }
  });
  return new Promise((resolve, reject) => proc.on('exit', (code) => (code === 0 ? resolve(samples) : reject(new Error(`${mode} exited with ${code}`)))));
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 90);
  if (!Number.isFinite(seconds) || seconds < 2 * WARMUP_S) throw new Error(`seconds: at least ${2 * WARMUP_S} (received ${process.argv[2]})`);
  console.log(`play() memory over ${seconds} s of audio per mode (null device, real time; modes in parallel child processes)`);
  const results = await Promise.all(MODES.map(async (mode) => [mode, await runChild(mode, seconds)] as const));
  const baseline = slope(results.find(([mode]) => mode === 'retain')?.[1] ?? [], 'arrayBuffersMb');
  console.log('\nmode      RSS first→last (MB)   growth per min of audio: RSS / arrayBuffers (MB)   vs retain   10 min of audio');
  for (const [mode, samples] of results) {
    const first = samples[0];
    const last = samples.at(-1);
    const rssSlope = slope(samples, 'rssMb');
    const bufferSlope = slope(samples, 'arrayBuffersMb');
    const measured = (last?.audioS ?? 0) >= 600;
    const remainingMin = 10 - (last?.audioS ?? 0) / 60;
    const tenMinutes = measured
      ? `measured: RSS ${last?.rssMb.toFixed(1)} MB`
      : `extrapolated: RSS ≈ ${((last?.rssMb ?? 0) + Math.max(0, rssSlope) * remainingMin).toFixed(1)} MB, arrayBuffers ≈ ${((last?.arrayBuffersMb ?? 0) + Math.max(0, bufferSlope) * remainingMin).toFixed(1)} MB`;
    console.log(
      `${mode.padEnd(8)}  ${first?.rssMb.toFixed(1)} → ${last?.rssMb.toFixed(1)}`.padEnd(30) +
        `${rssSlope.toFixed(2).padStart(8)} / ${bufferSlope.toFixed(3).padStart(8)}`.padEnd(45) +
        `${(bufferSlope / baseline).toFixed(3).padStart(8)}    ${tenMinutes}`,
    );
  }
  console.log(`(24 kHz mono float32 PCM is ${mb(RATE_HZ * 4 * 60).toFixed(2)} MB per minute: what keeping the audio costs)`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as Mode, Number(process.argv[4]));
} else {
  await main();
}
