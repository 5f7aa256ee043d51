import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { REDIS } from '../redis/redis.module';

/** Failed log-ins an account may have before it must wait. */
const FREE_FAILURES = 5;
/** The wait after the FREE_FAILURES-th failure; it doubles with each failure after, up to the cap. */
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 15 * 60_000;
/** A quiet account forgets its failures after this long. */
const FORGET_AFTER_MS = 2 * MAX_WAIT_MS;
const MEMORY_LIMIT = 10_000;

interface Failures {
  count: number;
  lastAt: number;
}

const waitAfter = (failures: number): number => (failures < FREE_FAILURES ? 0 : Math.min(FIRST_WAIT_MS * 2 ** (failures - FREE_FAILURES), MAX_WAIT_MS));

/**
 * Slows password guessing per account, whatever IPs it comes from (the per-IP limit is the other
 * half): after FREE_FAILURES failures, every attempt, right password or not, must wait a time that
 * doubles with each further failure. A success forgets the failures. Kept in Redis when the
 * strategy has one, so all instances share it; in the process otherwise. Keys hold a hash of the
 * email, not the email.
 */
@Injectable()
export class LoginAttempts {
  private readonly memory = new Map<string, Failures>();

  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  /** Throws 429 RATE_LIMITED, with Retry-After, while this account must wait. */
  async assertAllowed(email: string): Promise<void> {
    const failures = await this.read(keyOf(email));
    const waitMs = failures ? waitAfter(failures.count) - (Date.now() - failures.lastAt) : 0;
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new DomainError(ErrorCode.RATE_LIMITED, `Too many failed log-ins for this account; retry in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  async recordFailure(email: string): Promise<void> {
    const key = keyOf(email);
    if (this.redis) {
      await this.redis.multi().hincrby(key, 'count', 1).hset(key, 'lastAt', Date.now()).pexpire(key, FORGET_AFTER_MS).exec();
      return;
    }
    if (this.memory.size >= MEMORY_LIMIT) this.makeRoom();
    const count = (this.memory.get(key)?.count ?? 0) + 1;
    this.memory.set(key, { count, lastAt: Date.now() });
  }

  async recordSuccess(email: string): Promise<void> {
    const key = keyOf(email);
    if (this.redis) await this.redis.del(key);
    else this.memory.delete(key);
  }

  private async read(key: string): Promise<Failures | undefined> {
    if (!this.redis) return this.memory.get(key);
    const [count, lastAt] = await this.redis.hmget(key, 'count', 'lastAt');
    return count && lastAt ? { count: Number(count), lastAt: Number(lastAt) } : undefined;
  }

  /** Drops quiet accounts; if every one is recent (many accounts under attack), the one added first. */
  private makeRoom(): void {
    const cutoff = Date.now() - FORGET_AFTER_MS;
    for (const [key, failures] of this.memory) if (failures.lastAt < cutoff) this.memory.delete(key);
    if (this.memory.size >= MEMORY_LIMIT) this.memory.delete(this.memory.keys().next().value!);
  }
}

const keyOf = (email: string) => `login-failures:${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32)}`;
