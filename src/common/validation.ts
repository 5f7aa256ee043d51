import { buildMessage, ValidateBy } from 'class-validator';

/**
 * Text a person typed, such as a name: no control characters (PostgreSQL rejects NUL in text), no
 * unpaired surrogate halves (not encodable as UTF-8: they would be stored as U+FFFD, silently
 * changed), and no bidirectional overrides or isolates (they make a name display as another).
 */
export const PLAIN_TEXT = /^(?:[^\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
export const PLAIN_TEXT_MESSAGE = 'name must be plain text: no control characters, unpaired surrogates or direction overrides';

/** PostgreSQL `integer` upper bound; ids and quantities live in that column type. */
export const PG_INT_MAX = 2_147_483_647;

/**
 * A point in time as RFC 3339 writes it: date, time and an offset (`2026-11-27T00:00:00Z`,
 * `…+09:00`), seconds and fractions optional. ISO 8601 allows more (week dates such as
 * `2026-W01-1`, ordinal dates) that `new Date()` cannot read; they would reach PostgreSQL as an
 * Invalid Date and fail there (a 500), so they are refused here with a 400.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** `@IsTimestamp()`: a string in RFC 3339 form that is a real date (no 2026-02-30, no hour 25). */
export function IsTimestamp(): PropertyDecorator {
  return ValidateBy({
    name: 'isTimestamp',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && RFC3339.test(value) && isRealDate(value),
      defaultMessage: buildMessage((prefix) => `${prefix}$property must be a date-time such as 2026-11-27T00:00:00Z`),
    },
  });
}

/** Date.parse rolls 2026-02-30 over into March; a real date reads back as it was written. */
function isRealDate(value: string): boolean {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return false;
  const [, y, mo, d, h, mi] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value)!.map(Number);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() && h <= 23 && mi <= 59;
}
