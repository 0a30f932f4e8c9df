/**
 * What the tests of a file open (devices, engines, registrars, workers' terminate), closed newest
 * first after each test, so a failing test leaves nothing running for the next one.
 */
import { afterEach } from 'vitest';

/** Something a test opened and closes. */
export interface Closable {
  close(): unknown;
}

/** A list of what the tests of a file open, closed newest first after each test (call at the file's top level). */
export function closedAfterEach(): Closable[] {
  const opened: Closable[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  });
  return opened;
}
