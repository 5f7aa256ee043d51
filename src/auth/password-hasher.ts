import { availableParallelism } from 'node:os';
import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import pLimit from 'p-limit';
import { unavailable } from '../common/errors/domain.error';

/** argon2id with OWASP's minimum parameters (19 MiB, 2 passes): strong, and cheap enough for logins at load. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes computed at once, one per core at most: a log-in flood must not take the CPU issuance needs. */
const MAX_HASHING = Math.max(1, availableParallelism());
/** Waiting for a turn at most; beyond, 503 at once (a client retries, nothing queues without bound). */
const MAX_WAITING = 100;

@Injectable()
export class PasswordHasher {
  private readonly turn = pLimit(MAX_HASHING);
  /** Verified against when the email is unknown, so both cases take the same time. */
  private readonly decoy = argon2.hash('decoy-password-never-used', ARGON2_OPTIONS);

  hash(password: string): Promise<string> {
    return this.bounded(() => argon2.hash(password, ARGON2_OPTIONS));
  }

  /** False without a hash (an unknown email, or a user of the shop's identity provider, who has no password). */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const decoy = await this.decoy;
    return this.bounded(async () => {
      try {
        const ok = await argon2.verify(hash ?? decoy, password);
        return ok && hash != null;
      } catch {
        return false;
      }
    });
  }

  private bounded<T>(work: () => Promise<T>): Promise<T> {
    if (this.turn.pendingCount >= MAX_WAITING) return Promise.reject(unavailable('too many passwords being checked at once; retry shortly'));
    return this.turn(work);
  }
}
