import type { z } from 'zod';
import { InputError } from './errors.js';

/**
 * Parses `value` with a zod schema at a public edge and turns a failure into one `InputError`
 * that names the field, what was expected and what came.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const field = path ? `${what}.${path}` : what;
  const received = describeReceived(value, issue?.path ?? []);
  throw new InputError(`${field}: ${issue?.message ?? 'invalid value'} (received ${received})`, {
    field,
    cause: result.error,
  });
}

function describeReceived(value: unknown, path: readonly PropertyKey[]): string {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return 'nothing';
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  if (current === undefined) return 'nothing';
  if (typeof current === 'string') return JSON.stringify(current.length > 40 ? `${current.slice(0, 40)}…` : current);
  if (typeof current === 'number' || typeof current === 'boolean' || current === null) return String(current);
  if (Array.isArray(current)) return `an array of ${current.length}`;
  return typeof current;
}
