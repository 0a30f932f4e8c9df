/**
 * The program of the worker thread that runs the espeak-ng WebAssembly build (see espeak-wasm.ts),
 * and the messages it exchanges with the main thread.
 *
 * It is shipped as source text (`eval: true`), like the ONNX worker in onnx-session.ts, so it runs
 * the same from the built package and from TypeScript sources under a test runner (a transpiled
 * function's text may call helpers that do not exist in the worker). Plain ES2022, no imports.
 *
 * Start-up: import the Emscripten factory, compile the `.wasm`, instantiate it without running
 * `main`, snapshot the linear memory and the stack pointer, then post `ready` (or `load-failed`).
 * Each `EspeakWorkerRequest` restores the snapshot, writes the input text to the in-memory file
 * system, calls `main` with the arguments, and answers `result` (exit code, printed lines, output
 * files transferred) or `run-failed` (the program trapped). Requests run one at a time, in order.
 */

/** What the worker is started with (`workerData`). */
export interface EspeakWorkerInit {
  /** file: URL of the package's `espeak-ng.js` (the Emscripten factory). */
  entryUrl: string;
  /** Path of the `.wasm` next to it. */
  wasmPath: string;
}

/** One run of the program, posted to the worker. */
export interface EspeakWorkerRequest {
  id: number;
  /** Command-line arguments without the program name; `-f <input>` is appended when `inputText` is set. */
  args: string[];
  inputText?: string;
  /** In-memory paths to read back (and remove) after the run. */
  outputFiles: string[];
}

/** Messages the worker posts. File contents arrive as transferred buffers. */
export type EspeakWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'load-failed'; message: string }
  | { kind: 'result'; id: number; exitCode: number; stdoutLines: string[]; stderrLines: string[]; files: Array<[string, Uint8Array]> }
  | { kind: 'run-failed'; id: number; message: string };

/** The worker's program (see the file comment). */
export const ESPEAK_WORKER_SOURCE = `
const INPUT_PATH = '/tmp/voice-soundboard-input.txt';
const describe = (error) => (error instanceof Error ? error.message : String(error));
(async () => {
  const { parentPort: port, workerData: init } = await import('node:worker_threads');
  const { readFile } = await import('node:fs/promises');
  const stdout = [];
  const stderr = [];
  let program;
  let wasm;
  let snapshot;
  let stackPointer;
  try {
    const factory = (await import(init.entryUrl)).default;
    const compiled = await WebAssembly.compile(await readFile(init.wasmPath));
    let instantiateFailed;
    const failed = new Promise((resolve, reject) => (instantiateFailed = reject));
    program = await Promise.race([
      factory({
        noInitialRun: true,
        arguments: [],
        print: (line) => stdout.push(line),
        printErr: (line) => stderr.push(line),
        instantiateWasm(imports, receive) {
          WebAssembly.instantiate(compiled, imports).then((instance) => {
            wasm = instance.exports;
            receive(instance, compiled);
          }, instantiateFailed);
          return {};
        },
      }),
      failed,
    ]);
    if (!wasm) throw new Error('the WebAssembly instance did not start');
    snapshot = program.HEAPU8.slice();
    stackPointer = wasm.stackSave();
  } catch (error) {
    port.postMessage({ kind: 'load-failed', message: describe(error) });
    return;
  }
  const encoder = new TextEncoder();

  // Restores the start-up memory (all C globals clean) and calls main; returns the exit status.
  const callMain = (args) => {
    const heap = program.HEAPU8;
    heap.set(snapshot);
    wasm.stackRestore(stackPointer);
    const argv = ['espeak-ng', ...args];
    const pointers = argv.map((arg) => {
      const bytes = encoder.encode(arg + '\\0');
      const pointer = wasm.malloc(bytes.byteLength);
      if (pointer === 0) throw new Error('the WASM heap is full (arguments too long)');
      heap.set(bytes, pointer);
      return pointer;
    });
    const argvPointer = wasm.malloc((pointers.length + 1) * 4);
    const words = program.HEAPU32;
    pointers.forEach((pointer, index) => {
      words[(argvPointer >> 2) + index] = pointer;
    });
    words[(argvPointer >> 2) + pointers.length] = 0;
    try {
      return wasm.__main_argc_argv(argv.length, argvPointer);
    } catch (error) {
      // exit(n) unwinds out of main as an ExitStatus carrying the status.
      if (error !== null && typeof error === 'object' && error.name === 'ExitStatus') return Number(error.status ?? 1);
      throw error;
    }
  };

  port.postMessage({ kind: 'ready' });
  port.on('message', (request) => {
    try {
      const args = [...request.args];
      if (request.inputText !== undefined) {
        program.FS.writeFile(INPUT_PATH, request.inputText);
        args.push('-f', INPUT_PATH);
      }
      stdout.length = 0;
      stderr.length = 0;
      const exitCodeBefore = process.exitCode;
      let exitCode;
      try {
        exitCode = callMain(args);
      } finally {
        // Emscripten's exit() sets process.exitCode; the thread must not inherit it.
        process.exitCode = exitCodeBefore;
      }
      const files = [];
      const transfers = [];
      for (const path of request.outputFiles) {
        let bytes;
        try {
          bytes = program.FS.readFile(path);
          program.FS.unlink(path);
        } catch {
          continue; // not written by this run: the caller sees it missing
        }
        if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
        files.push([path, bytes]);
        transfers.push(bytes.buffer);
      }
      if (request.inputText !== undefined) program.FS.unlink(INPUT_PATH);
      // Emscripten adds a note about keepRuntimeAlive when main calls exit(); it is not espeak's.
      const stderrLines = stderr.filter((line) => !line.startsWith('program exited'));
      port.postMessage({ kind: 'result', id: request.id, exitCode, stdoutLines: [...stdout], stderrLines, files }, transfers);
    } catch (error) {
      port.postMessage({ kind: 'run-failed', id: request.id, message: describe(error) });
    }
  });
})();
`;
