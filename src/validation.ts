import { z } from 'zod';
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

/** Whether `value` is an object literal's kind: its prototype is Object.prototype or null. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A record keyed by names users write (speakers in a cast), where every own key is a name like
 * any other: `__proto__`, `constructor` and `toString` included. zod's `z.record` skips a
 * `__proto__` key (its value unread), and a plain object answers `constructor` from its
 * prototype; this parses into a null-prototype record instead, so a lookup finds only what was
 * given. A failing entry names its key (`cast.__proto__.rate`); an object whose prototype was set
 * (an unquoted `__proto__:` key in a literal) is refused rather than read as empty.
 */
export function namedRecord<Key extends z.ZodType<string, string>, Value extends z.ZodType>(key: Key, value: Value) {
  return z.custom<Record<string, z.input<Value>>>(isPlainRecord, 'expected a plain object of names (an unquoted __proto__ key in an object literal sets its prototype: write it as ["__proto__"])').transform((input, context) => {
    const out = Object.create(null) as Record<string, z.output<Value>>;
    for (const name of Object.keys(input)) {
      const parsedKey = key.safeParse(name);
      if (!parsedKey.success) {
        for (const issue of parsedKey.error.issues) context.issues.push({ code: 'custom', message: issue.message, path: [name], input: name });
        continue;
      }
      const parsedValue = value.safeParse(input[name]);
      if (!parsedValue.success) {
        for (const issue of parsedValue.error.issues) context.issues.push({ code: 'custom', message: issue.message, path: [name, ...issue.path], input: input[name] });
        continue;
      }
      // A plain assignment would set the prototype for "__proto__" (were `out` not null-prototype): define it.
      Object.defineProperty(out, parsedKey.data, { value: parsedValue.data, enumerable: true, writable: true, configurable: true });
    }
    return out;
  });
}
