/**
 * A resource a backend opens on first use (a model in its worker, a voices file, a config, an
 * engine) and shares with every later call.
 */

/**
 * Loads a resource once and hands the same one to every caller. Callers that arrive while it is
 * loading share that load. A failed load is forgotten, so the next call tries again (and picks up
 * a fixed file); a loaded value that `isUsable` rejects (a worker that died) is loaded again.
 */
export class LazyLoad<T> {
  private current: Promise<T> | undefined;

  constructor(
    private readonly open: () => Promise<T>,
    private readonly isUsable: (value: T) => boolean = () => true,
  ) {}

  /** The resource, loading it if it is not loaded (or no longer usable); rejects with the load error. */
  async get(): Promise<T> {
    const current = this.current;
    if (current) {
      const loaded = await current;
      if (this.isUsable(loaded)) return loaded;
      if (this.current === current) this.current = undefined;
    }
    this.current ??= this.open();
    const loading = this.current;
    loading.catch(() => {
      if (this.current === loading) this.current = undefined;
    });
    return loading;
  }

  /** Forgets the resource and returns its load (done or in progress), for the caller to release; undefined if none. */
  take(): Promise<T> | undefined {
    const current = this.current;
    this.current = undefined;
    return current;
  }
}
