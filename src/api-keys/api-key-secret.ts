import { createHash, randomBytes } from 'node:crypto';

/** Every key starts so: a bearer token of this shape is a service key, never a JWT (which has dots). */
export const KEY_PREFIX = 'csk_';
const KEY_SHAPE = /^csk_[A-Za-z0-9_-]{43}$/;

/** A new secret: 256 random bits. */
export const newKeySecret = (): string => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export const looksLikeKey = (bearer: string): boolean => bearer.startsWith(KEY_PREFIX);
export const isWellFormedKey = (bearer: string): boolean => KEY_SHAPE.test(bearer);

/**
 * What is stored and looked up: SHA-256 of the secret. A random 256-bit secret needs no slow hash
 * (nothing to guess from the digest), and one digest per request keeps the lookup an index read.
 */
export const keyDigest = (secret: string): Buffer => createHash('sha256').update(secret).digest();
