import type Redis from 'ioredis';

/** An account's failed log-ins: how many, and when the last one was. */
export interface Failures {
  count: number;
  lastAt: number;
}

/**
 * Where failed log-ins are counted: Redis when the service has one (every instance shares the
 * count), the process's memory otherwise. Keys are hashes of emails, never emails.
 */
export abstract class LoginAttemptStore {
  abstract read(key: string): Promise<Failures | undefined>;
  /** Counts one more failure; the record is forgotten `forgetAfterMs` after the last one. */
  abstract recordFailure(key: string, forgetAfterMs: number): Promise<void>;
  abstract forget(key: string): Promise<void>;
}

export class RedisLoginAttemptStore extends LoginAttemptStore {
  constructor(private readonly redis: Redis) {
    super();
  }

  async read(key: string): Promise<Failures | undefined> {
    const [count, lastAt] = await this.redis.hmget(key, 'count', 'lastAt');
    return count && lastAt ? { count: Number(count), lastAt: Number(lastAt) } : undefined;
  }

  async recordFailure(key: string, forgetAfterMs: number): Promise<void> {
    await this.redis.multi().hincrby(key, 'count', 1).hset(key, 'lastAt', Date.now()).pexpire(key, forgetAfterMs).exec();
  }

  async forget(key: string): Promise<void> {
    await this.redis.del(key);
  }
}

/** Accounts remembered at most; past it, quiet ones go first. */
const MEMORY_LIMIT = 10_000;

export class MemoryLoginAttemptStore extends LoginAttemptStore {
  private readonly memory = new Map<string, Failures>();

  async read(key: string): Promise<Failures | undefined> {
    return this.memory.get(key);
  }

  async recordFailure(key: string, forgetAfterMs: number): Promise<void> {
    if (this.memory.size >= MEMORY_LIMIT) this.makeRoom(forgetAfterMs);
    const count = (this.memory.get(key)?.count ?? 0) + 1;
    this.memory.set(key, { count, lastAt: Date.now() });
  }

  async forget(key: string): Promise<void> {
    this.memory.delete(key);
  }

  /** Drops quiet accounts; if every one is recent (many accounts under attack), the one added first. */
  private makeRoom(forgetAfterMs: number): void {
    const cutoff = Date.now() - forgetAfterMs;
    for (const [key, failures] of this.memory) if (failures.lastAt < cutoff) this.memory.delete(key);
    if (this.memory.size >= MEMORY_LIMIT) this.memory.delete(this.memory.keys().next().value!);
  }
}
