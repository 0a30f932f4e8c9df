/**
 * The espeak-ng WebAssembly build (npm package `espeak-ng`, an optional dependency, GPL-3: loaded
 * at run time, never bundled or linked) kept warm between calls.
 *
 * The package is an Emscripten build of the espeak-ng command-line program: instantiating it runs
 * `main` once, which costs 210–300 ms (compiling 18 MB of WebAssembly and unpacking the voice data).
 * Here the module is compiled and instantiated once, the linear memory is snapshotted right after
 * start-up (before `main` ever ran), and every call restores that snapshot and calls `main` again:
 * all C globals (getopt state, stdio, espeak's own) start clean each time, and a call costs a
 * memory copy (32 MB) plus the synthesis itself. Calls are synchronous inside, so they are naturally
 * serialised on the JS thread; an AbortSignal is honoured before a call starts, not during one.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { AbortError, BackendError } from '../errors.js';

/** The npm package name of the WASM build. */
export const ESPEAK_WASM_PACKAGE = 'espeak-ng';

/** In-memory file the text to speak is written to (read by the program through `-f`). */
const INPUT_PATH = '/tmp/voice-soundboard-input.txt';

/** The parts of the Emscripten module object used here. */
interface EmscriptenFs {
  writeFile(path: string, data: string | Uint8Array): void;
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
}
interface EmscriptenModule {
  FS: EmscriptenFs;
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
}
interface WasmExports {
  malloc(bytes: number): number;
  stackSave(): number;
  stackRestore(pointer: number): void;
  __main_argc_argv(argc: number, argv: number): number;
}
interface EmscriptenModuleOptions {
  noInitialRun: boolean;
  arguments: string[];
  print(line: string): void;
  printErr(line: string): void;
  instantiateWasm(imports: object, receive: (instance: WasmInstance, module: object) => void): object;
}
/** The WebAssembly JS API (not in this project's `lib`, which targets Node without DOM types). */
interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<WasmInstance>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
type EmscriptenFactory = (options: EmscriptenModuleOptions) => Promise<EmscriptenModule>;

/** What one call of the program produced. */
export interface EspeakWasmRunResult {
  exitCode: number;
  stdoutLines: string[];
  stderrLines: string[];
  /** Contents of the requested output files that exist after the run. */
  files: Map<string, Uint8Array>;
}

/** Options of one call. */
export interface EspeakWasmRun {
  /** Command-line arguments, without the program name and without the text. */
  args: readonly string[];
  /** Text to speak: written to a file in the in-memory file system and passed as `-f`. */
  inputText?: string;
  /** In-memory paths to read back after the run (e.g. the `-w` WAV path); removed afterwards. */
  outputFiles?: readonly string[];
  signal?: AbortSignal;
}

function unavailable(packageName: string, cause: unknown): BackendError {
  return new BackendError(
    'espeak',
    'ESPEAK_NOT_FOUND',
    `the WASM build ${JSON.stringify(packageName)} could not be loaded; install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package`,
    { cause },
  );
}

/** One warm instance of the espeak-ng WASM program. Create with `EspeakWasm.load()`. */
export class EspeakWasm {
  private readonly encoder = new TextEncoder();
  private stdout: string[] = [];
  private stderr: string[] = [];

  private constructor(
    private readonly module: EmscriptenModule,
    private readonly exports: WasmExports,
    private readonly memorySnapshot: Uint8Array,
    private readonly stackPointer: number,
  ) {}

  /**
   * Loads, compiles and instantiates the WASM build once: `packageName` is the npm package (default
   * `espeak-ng`) or the path of its `espeak-ng.js` (a vendored copy; the `.wasm` must sit next to
   * it). Rejects with `ESPEAK_NOT_FOUND` when it cannot be loaded.
   */
  static async load(packageName: string = ESPEAK_WASM_PACKAGE): Promise<EspeakWasm> {
    let factory: EmscriptenFactory;
    let wasmBytes: Buffer;
    try {
      const entryPath = createRequire(import.meta.url).resolve(packageName);
      const imported = (await import(pathToFileURL(entryPath).href)) as { default: EmscriptenFactory };
      factory = imported.default;
      wasmBytes = await readFile(entryPath.replace(/\.js$/, '.wasm'));
    } catch (error) {
      throw unavailable(packageName, error);
    }
    let compiled: object;
    try {
      compiled = await webAssembly.compile(wasmBytes);
    } catch (error) {
      throw unavailable(packageName, error);
    }
    let exports: WasmExports | undefined;
    const sink: { stdout: string[]; stderr: string[] } = { stdout: [], stderr: [] };
    const module = await factory({
      noInitialRun: true,
      arguments: [],
      print: (line) => sink.stdout.push(line),
      printErr: (line) => sink.stderr.push(line),
      instantiateWasm(imports, receive) {
        void webAssembly.instantiate(compiled, imports).then((instance) => {
          exports = instance.exports as unknown as WasmExports;
          receive(instance, compiled);
        });
        return {};
      },
    });
    if (!exports) throw unavailable(packageName, new Error('the WebAssembly instance did not start'));
    const instance = new EspeakWasm(module, exports, module.HEAPU8.slice(), exports.stackSave());
    // Output callbacks were bound at start-up: route them to the instance's buffers.
    instance.stdout = sink.stdout;
    instance.stderr = sink.stderr;
    return instance;
  }

  /**
   * Runs the program once with `args` on a clean copy of its start-up memory. Resolves with the
   * exit code, printed lines and requested files. Rejects with `AbortError` if `signal` is already
   * aborted, and with `BackendError` `ESPEAK_FAILED` if the program crashed.
   */
  async run(run: EspeakWasmRun): Promise<EspeakWasmRunResult> {
    if (run.signal?.aborted) throw new AbortError('espeak-ng (wasm) run was aborted before it started');
    const args = [...run.args];
    if (run.inputText !== undefined) {
      this.module.FS.writeFile(INPUT_PATH, run.inputText);
      args.push('-f', INPUT_PATH);
    }
    this.stdout.length = 0;
    this.stderr.length = 0;
    const exitCodeBefore = process.exitCode;
    let exitCode: number;
    try {
      exitCode = this.callMain(args);
    } finally {
      // Emscripten's exit() sets process.exitCode; the host process must not inherit it.
      process.exitCode = exitCodeBefore;
    }
    const files = new Map<string, Uint8Array>();
    for (const path of run.outputFiles ?? []) {
      try {
        files.set(path, this.module.FS.readFile(path));
        this.module.FS.unlink(path);
      } catch {
        // Not written by this run: the caller sees it missing from `files`.
      }
    }
    if (run.inputText !== undefined) this.module.FS.unlink(INPUT_PATH);
    return {
      exitCode,
      stdoutLines: [...this.stdout],
      // Emscripten adds a note about keepRuntimeAlive when main calls exit(); it is not espeak's.
      stderrLines: this.stderr.filter((line) => !line.startsWith('program exited')),
      files,
    };
  }

  private callMain(args: readonly string[]): number {
    const heap = this.module.HEAPU8;
    heap.set(this.memorySnapshot);
    this.exports.stackRestore(this.stackPointer);
    const argv = ['espeak-ng', ...args];
    const pointers = argv.map((arg) => {
      const bytes = this.encoder.encode(`${arg}\0`);
      const pointer = this.exports.malloc(bytes.byteLength);
      if (pointer === 0) throw new BackendError('espeak', 'ESPEAK_FAILED', 'the WASM heap is full (arguments too long)');
      heap.set(bytes, pointer);
      return pointer;
    });
    const argvPointer = this.exports.malloc((pointers.length + 1) * 4);
    const words = this.module.HEAPU32;
    pointers.forEach((pointer, index) => {
      words[(argvPointer >> 2) + index] = pointer;
    });
    words[(argvPointer >> 2) + pointers.length] = 0;
    try {
      return this.exports.__main_argc_argv(argv.length, argvPointer);
    } catch (error) {
      // exit(n) unwinds out of main as an ExitStatus carrying the status.
      if (error !== null && typeof error === 'object' && (error as { name?: unknown }).name === 'ExitStatus') {
        return Number((error as { status?: unknown }).status ?? 1);
      }
      throw new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng (wasm) crashed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

const shared = new Map<string, Promise<EspeakWasm>>();

/** The process-wide warm instance of a WASM build, loaded on first use. A failed load is not cached. */
export function sharedEspeakWasm(packageName: string = ESPEAK_WASM_PACKAGE): Promise<EspeakWasm> {
  let instance = shared.get(packageName);
  if (!instance) {
    instance = EspeakWasm.load(packageName);
    shared.set(packageName, instance);
    instance.catch(() => shared.delete(packageName));
  }
  return instance;
}
