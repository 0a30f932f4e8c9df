/**
 * The wall-clock text of attestation timestamps: ISO 8601 in UTC with milliseconds, exactly what
 * `Date.prototype.toISOString` writes. A record is often made when the thread has just woken (a
 * durable store sleeps in fdatasync between records), where a Date object and its formatting
 * cost microseconds; here the date part is formatted once per UTC day and the time of day is
 * written from integer arithmetic and two small tables.
 */

const MS_PER_DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, value) => String(value).padStart(3, '0'));

let dayStartMs = Number.NaN;
let dayPrefix = '';

/** `new Date(ms).toISOString()` for an integer `ms` (what Date.now() returns), without a Date per call. */
export function isoOfMs(ms: number): string {
  if (!(ms >= dayStartMs && ms < dayStartMs + MS_PER_DAY)) {
    dayStartMs = Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
    dayPrefix = new Date(dayStartMs).toISOString().slice(0, -13); // through the 'T'
  }
  let rest = ms - dayStartMs;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${dayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}Z`;
}

let lastWallMs = Number.NaN;
let lastWallIso = '';

/** The wall clock now as ISO 8601 with ms (the text is made once per millisecond). */
export function wallClockIso(): string {
  const nowMs = Date.now();
  if (nowMs !== lastWallMs) {
    lastWallMs = nowMs;
    lastWallIso = isoOfMs(nowMs);
  }
  return lastWallIso;
}
