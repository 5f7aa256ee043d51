/** Text a person typed: no NUL or other control characters (PostgreSQL rejects NUL in text). */
export const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;

/** PostgreSQL `integer` upper bound; ids and quantities live in that column type. */
export const PG_INT_MAX = 2_147_483_647;
