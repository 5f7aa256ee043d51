import { randomBytes } from 'node:crypto';

/** 120 random bits, URL-safe (20 characters): unguessable, and collisions are left to the UNIQUE index. */
export const newIssueCode = (): string => randomBytes(15).toString('base64url');
