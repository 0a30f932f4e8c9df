/**
 * One way of running espeak-ng (the events helper, the system program or the warm WASM build)
 * behind one interface: speak text to a WAV and/or IPA, and list voices. `openEspeakEngine` picks
 * the path: `helper`, `process` and `wasm` force one; `auto` prefers the events helper
 * (build/espeak-events, built when libespeak-ng's headers are installed: measured word and
 * phoneme events, see espeak-events.ts) next to the system program, then the program alone
 * (estimated timings), then the WASM build when the program is not installed.
 * Every call's text passes through `shapeEspeakInput` (espeak-input.ts) first, with the rules of
 * the voice named by `-v`: input espeak-ng 1.51 crashes on or reads as commands never reaches it.
 *
 * Measured per sentence in one run of bench/espeak.bench.ts (2 cores shared with other work):
 * the system program 13.1 ms p50 / 23.8 ms p99 (mostly process start-up); the warm WASM build in
 * its worker thread 8.8 ms p50 / 13.8 ms p99, message round trip and WAV transfer included (a bare
 * round trip is 1.4 ms p50); the same build on the JS thread
 * (the previous design, measured minutes earlier on the same machine) was 9.2 / 11.3 ms.
 * Per warm sentence the worker is ~1.5x faster and no longer blocks the event loop. It costs a
 * one-time load (120–300 ms: compiling 18 MB of WebAssembly) and ~70 MB (heap + start-up snapshot)
 * that the program path does not. `auto` still prefers the program: making it prefer the WASM
 * build changes what a default backend reports in the registry listing (test/backends/registry.test.ts),
 * which is left to that file's owner.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../errors.js';
import { DEFAULT_ESPEAK_EVENTS_HELPER, espeakEventsArgs, isEspeakEventsHelperBuilt, runEspeakEventsHelper, type EspeakEvent } from './espeak-events.js';
import { shapeEspeakInput } from './espeak-input.js';
import { DEFAULT_ESPEAK_BINARY, isEspeakProcessAvailable, runEspeakProcess } from './espeak-process.js';
import { parseEspeakVariants, parseEspeakVoices, type EspeakVoiceList } from './espeak-voices.js';
import { leaseEspeakWasm, type EspeakWasmLease } from './espeak-wasm.js';

/** Which espeak-ng to use: the system program, the WASM build, or the first available. */
export type EspeakMode = 'auto' | 'helper' | 'process' | 'wasm';

/** One espeak-ng call. */
export interface EspeakInvocation {
  /** Options before the text (`-v`, `-s`, `-p`, `--ipa=3`...), without output options. */
  args: readonly string[];
  /** Any text: it is shaped by `shapeEspeakInput` (espeak-input.ts) before espeak-ng sees it. */
  text: string;
  /** Write a WAV of the speech (`-w`) and return it. */
  wav: boolean;
  signal?: AbortSignal;
}

/** What one call produced. */
export interface EspeakInvocationResult {
  /** Everything printed on stdout (IPA lines when `--ipa` was passed). */
  stdout: string;
  /** The WAV file bytes when `wav` was asked for. */
  wav?: Uint8Array;
  /** The engine's word and phoneme events with audio positions (the events helper only). */
  events?: EspeakEvent[];
  /** The text espeak-ng read after input shaping: what the events' character positions refer to. */
  spokenText?: string;
}

/** A way of running espeak-ng. */
export interface EspeakEngine {
  readonly kind: 'helper' | 'process' | 'wasm';
  invoke(invocation: EspeakInvocation): Promise<EspeakInvocationResult>;
  /** Voices and variants, read once from the program and cached. */
  voiceList(): Promise<EspeakVoiceList>;
  /** Removes temporary files; idempotent. */
  close(): Promise<void>;
}

/** The `-v` argument of a call, if any (input shaping has per-voice rules). */
function voiceArgument(args: readonly string[]): string | undefined {
  const index = args.indexOf('-v');
  return index >= 0 ? args[index + 1] : undefined;
}

/** Message shared by every "no espeak-ng at all" error. */
export const ESPEAK_INSTALL_HINT = 'install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package';

class ProcessEngine implements EspeakEngine {
  readonly kind = 'process';
  private tempDir: Promise<string> | undefined;
  private fileCounter = 0;
  private voices: Promise<EspeakVoiceList> | undefined;

  constructor(private readonly binaryPath: string) {}

  async invoke(invocation: EspeakInvocation): Promise<EspeakInvocationResult> {
    const text = shapeEspeakInput(invocation.text, voiceArgument(invocation.args));
    if (!invocation.wav) {
      const { stdout } = await runEspeakProcess({ binaryPath: this.binaryPath, args: [...invocation.args, '--stdin'], stdinText: text, signal: invocation.signal });
      return { stdout: stdout.toString('utf8') };
    }
    // `-w` rather than `--stdout`, so stdout stays free for the IPA of the same run.
    this.tempDir ??= mkdtemp(join(tmpdir(), 'voice-soundboard-espeak-')).then(removeAtExit);
    const wavPath = join(await this.tempDir, `${process.pid}-${(this.fileCounter += 1)}.wav`);
    try {
      const { stdout } = await runEspeakProcess({
        binaryPath: this.binaryPath,
        args: [...invocation.args, '-w', wavPath, '--stdin'],
        stdinText: text,
        signal: invocation.signal,
      });
      return { stdout: stdout.toString('utf8'), wav: new Uint8Array(await readFile(wavPath)) };
    } finally {
      await unlink(wavPath).catch(() => undefined);
    }
  }

  voiceList(): Promise<EspeakVoiceList> {
    this.voices ??= Promise.all([
      runEspeakProcess({ binaryPath: this.binaryPath, args: ['--voices'] }),
      runEspeakProcess({ binaryPath: this.binaryPath, args: ['--voices=variant'] }),
    ]).then(([voices, variants]) => ({ voices: parseEspeakVoices(voices.stdout.toString('utf8')), variants: parseEspeakVariants(variants.stdout.toString('utf8')) }));
    this.voices.catch(() => {
      this.voices = undefined;
    });
    return this.voices;
  }

  async close(): Promise<void> {
    const dir = this.tempDir;
    this.tempDir = undefined;
    if (!dir) return;
    const path = await dir;
    await rm(path, { recursive: true, force: true });
    liveTempDirs.delete(path);
  }
}

/**
 * The events helper for speech (measured events), the program for voice lists and for any call
 * the helper does not take (no WAV asked, an option it does not know).
 */
class HelperEngine implements EspeakEngine {
  readonly kind = 'helper';

  constructor(
    private readonly helperPath: string,
    private readonly program: ProcessEngine,
  ) {}

  async invoke(invocation: EspeakInvocation): Promise<EspeakInvocationResult> {
    const args = invocation.wav ? espeakEventsArgs(invocation.args) : undefined;
    if (!args) return this.program.invoke(invocation);
    const spokenText = shapeEspeakInput(invocation.text, voiceArgument(invocation.args));
    const run = await runEspeakEventsHelper({ helperPath: this.helperPath, args, text: spokenText, signal: invocation.signal });
    return { stdout: run.ipa, wav: run.wav, events: run.events, spokenText };
  }

  voiceList(): Promise<EspeakVoiceList> {
    return this.program.voiceList();
  }

  close(): Promise<void> {
    return this.program.close();
  }
}

/** Temp dirs of engines not closed yet: removed when the process exits, so none is left behind. */
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;

/** Registers a temp dir for removal at process exit (sync: 'exit' listeners cannot wait). */
function removeAtExit(path: string): string {
  liveTempDirs.add(path);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  return path;
}

const WASM_WAV_PATH = '/tmp/voice-soundboard-output.wav';

class WasmEngine implements EspeakEngine {
  readonly kind = 'wasm';
  private voices: Promise<EspeakVoiceList> | undefined;

  constructor(private readonly wasm: EspeakWasmLease) {}

  async invoke(invocation: EspeakInvocation): Promise<EspeakInvocationResult> {
    const args = invocation.wav ? [...invocation.args, '-w', WASM_WAV_PATH] : [...invocation.args];
    const instance = await this.wasm.get();
    const result = await instance.run({ args, inputText: shapeEspeakInput(invocation.text, voiceArgument(invocation.args)), outputFiles: invocation.wav ? [WASM_WAV_PATH] : [], signal: invocation.signal });
    if (result.exitCode !== 0) {
      const detail = result.stderrLines.join(' ').trim();
      throw new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng (wasm) exited with code ${result.exitCode}${detail ? `: ${detail}` : ''}`);
    }
    const wav = result.files.get(WASM_WAV_PATH);
    if (invocation.wav && !wav) throw new BackendError('espeak', 'ESPEAK_FAILED', 'espeak-ng (wasm) wrote no WAV file');
    return wav ? { stdout: result.stdoutLines.join('\n'), wav } : { stdout: result.stdoutLines.join('\n') };
  }

  voiceList(): Promise<EspeakVoiceList> {
    this.voices ??= (async () => {
      const instance = await this.wasm.get();
      const voices = await instance.run({ args: ['--voices'] });
      const variants = await instance.run({ args: ['--voices=variant'] });
      return { voices: parseEspeakVoices(voices.stdoutLines.join('\n')), variants: parseEspeakVariants(variants.stdoutLines.join('\n')) };
    })();
    this.voices.catch(() => {
      this.voices = undefined;
    });
    return this.voices;
  }

  async close(): Promise<void> {
    // The worker is shared by every open WASM engine; it stops when the last one closes.
    await this.wasm.release();
  }
}

/** Where to find espeak-ng. */
export interface EspeakEngineOptions {
  mode: EspeakMode;
  /** Path or PATH name of the system program (default `espeak-ng`). */
  binaryPath?: string;
  /** npm package name or `espeak-ng.js` path of the WASM build (default `espeak-ng`). */
  wasmPackage?: string;
  /** Path of the events helper (default: the package's build/espeak-events). */
  helperPath?: string;
}

/**
 * Opens the espeak-ng path asked for. Rejects with `BackendError` `ESPEAK_NOT_FOUND` naming what
 * is missing: the program (mode `process`), the npm package (mode `wasm`) or both (mode `auto`).
 */
export async function openEspeakEngine(options: EspeakEngineOptions): Promise<EspeakEngine> {
  const binaryPath = options.binaryPath ?? DEFAULT_ESPEAK_BINARY;
  const helperPath = options.helperPath ?? DEFAULT_ESPEAK_EVENTS_HELPER;
  if (options.mode === 'helper' && !isEspeakEventsHelperBuilt(helperPath)) {
    throw new BackendError('espeak', 'ESPEAK_NOT_FOUND', `the espeak-events helper ${JSON.stringify(helperPath)} is not built; install libespeak-ng-dev and run \`node scripts/build.mjs\`, or choose mode 'auto'`);
  }
  if (options.mode !== 'wasm') {
    if (await isEspeakProcessAvailable(binaryPath)) {
      const program = new ProcessEngine(binaryPath);
      return options.mode !== 'process' && isEspeakEventsHelperBuilt(helperPath) ? new HelperEngine(helperPath, program) : program;
    }
    if (options.mode === 'helper') {
      throw new BackendError('espeak', 'ESPEAK_NOT_FOUND', `the espeak-ng program ${JSON.stringify(binaryPath)} cannot be run (the helper path needs it for voice lists); install espeak-ng (apt-get install espeak-ng)`);
    }
    if (options.mode === 'process') {
      throw new BackendError('espeak', 'ESPEAK_NOT_FOUND', `the espeak-ng program ${JSON.stringify(binaryPath)} cannot be run; install espeak-ng (apt-get install espeak-ng) or choose mode 'wasm'`);
    }
  }
  try {
    return new WasmEngine(await leaseEspeakWasm(options.wasmPackage));
  } catch (error) {
    const wasmPackage = JSON.stringify(options.wasmPackage ?? 'espeak-ng');
    const what =
      options.mode === 'wasm'
        ? `the espeak-ng WASM build ${wasmPackage} could not be loaded`
        : `neither the espeak-ng program (${JSON.stringify(binaryPath)}) nor the espeak-ng WASM build (${wasmPackage}) is available`;
    throw new BackendError('espeak', 'ESPEAK_NOT_FOUND', `${what}; ${ESPEAK_INSTALL_HINT}`, { cause: error });
  }
}
