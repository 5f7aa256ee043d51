/**
 * Text a person typed, such as a name: no control characters (PostgreSQL rejects NUL in text), no
 * unpaired surrogate halves (not encodable as UTF-8: they would be stored as U+FFFD, silently
 * changed), and no bidirectional overrides or isolates (they make a name display as another).
 */
export const PLAIN_TEXT = /^(?:[^\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
export const PLAIN_TEXT_MESSAGE = 'name must be plain text: no control characters, unpaired surrogates or direction overrides';

/** PostgreSQL `integer` upper bound; ids and quantities live in that column type. */
export const PG_INT_MAX = 2_147_483_647;
