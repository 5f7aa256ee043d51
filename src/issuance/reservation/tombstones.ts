import { randomBytes } from 'node:crypto';

/**
 * A give-back's tombstone (see give-back.lua): `<deadline ms>-<nonce>`, one per give-back under
 * way, listed space-separated in the user's field of `returning`, so each of a double click's
 * give-backs ends only its own (end-give-back.lua) and settle.lua waits for the latest deadline.
 */

/**
 * How long a give-back's tombstone stands at most: the give-back's PostgreSQL statement, plus
 * margin. Only a caller that died leaves one to expire; a writer waiting on it waits that long.
 */
const GIVE_BACK_DEADLINE_MS = 10_000;
/** How long a tombstone is kept past its deadline, for GiveBackRepair to find (then it expires). */
export const TOMBSTONE_KEPT_MS = 10 * 60_000;

/** A new give-back's own tombstone. */
export const newTombstone = (now = Date.now()): string => `${now + GIVE_BACK_DEADLINE_MS}-${randomBytes(4).toString('hex')}`;

/** The latest deadline (ms) of a user's tombstones, as their field lists them. */
export const latestDeadline = (tombstones: string): number => Math.max(...tombstones.split(' ').map((t) => Number(t.split('-')[0])));
