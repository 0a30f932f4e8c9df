/** Catching what a call throws or a promise rejects with, so a test can assert on it. */
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';

/** The InputError `run` throws; fails the test when it throws nothing or something else. */
export function inputFailure(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

/** Whatever `run` throws; fails the test when it throws nothing. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** The InputError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function inputRejection(promise: Promise<unknown>): Promise<InputError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}
