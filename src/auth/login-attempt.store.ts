import type { RedisClient } from '../redis/redis.module';
import { defineScripts } from '../redis/scripts';

/** Whose attempts are counted: this account from this client address, and this account from anywhere. */
export interface AttemptKeys {
  /** A hash of the account; the Redis keys of one account share it as their hash tag. */
  account: string;
  /** A hash of the account and the client address. */
  place: string;
}

/** The slow-down's numbers (login-attempts.ts). */
export interface AttemptPolicy {
  freeFailures: number;
  firstWaitMs: number;
  maxWaitMs: number;
  forgetPlaceAfterMs: number;
  accountFailuresPerWindow: number;
  accountWindowMs: number;
  maxInFlight: number;
  staleInFlightMs: number;
}

export type RefusalReason = 'PLACE' | 'ACCOUNT' | 'IN_FLIGHT';
export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number; reason: RefusalReason };

/**
 * Where log-in attempts are admitted and counted: Redis when the service has one (every instance
 * shares the counts, and two Lua scripts make each step atomic), the process's memory otherwise
 * (plain synchronous code between two awaits: just as atomic, for one process). Keys are hashes.
 */
export abstract class LoginAttemptStore {
  /** Admits the attempt and counts it as a failure in advance, or refuses it: one atomic step. */
  abstract begin(keys: AttemptKeys, attemptId: string, now: number, policy: AttemptPolicy): Promise<Admission>;
  /** The attempt was weighed: a success forgets the address's failures and refunds the account's charge. */
  abstract end(keys: AttemptKeys, attemptId: string, succeeded: boolean): Promise<void>;
}

/** How long the place must wait after `count` failures (0 before the free ones are used up). */
export const waitAfter = (count: number, p: AttemptPolicy): number =>
  count < p.freeFailures ? 0 : Math.min(p.firstWaitMs * 2 ** (count - p.freeFailures), p.maxWaitMs);

interface LoginScripts {
  loginBegin(place: string, account: string, inFlight: string, ...args: (string | number)[]): Promise<[0] | [1, number, RefusalReason]>;
  loginEnd(place: string, account: string, inFlight: string, attemptId: string, succeeded: string): Promise<number>;
}

export class RedisLoginAttemptStore extends LoginAttemptStore {
  private readonly scripts: LoginScripts;

  constructor(redis: RedisClient) {
    super();
    this.scripts = defineScripts<LoginScripts>(redis, {
      loginBegin: { file: 'login-begin.lua', keys: 3 },
      loginEnd: { file: 'login-end.lua', keys: 3 },
    });
  }

  private keysOf({ account, place }: AttemptKeys): [string, string, string] {
    const tag = `login:{${account}}`;
    return [`${tag}:place:${place}`, `${tag}:account`, `${tag}:in-flight`];
  }

  async begin(keys: AttemptKeys, attemptId: string, now: number, p: AttemptPolicy): Promise<Admission> {
    const reply = await this.scripts.loginBegin(
      ...this.keysOf(keys),
      now,
      attemptId,
      p.freeFailures,
      p.firstWaitMs,
      p.maxWaitMs,
      p.forgetPlaceAfterMs,
      p.accountFailuresPerWindow,
      p.accountWindowMs,
      p.maxInFlight,
      p.staleInFlightMs,
    );
    return reply[0] === 0 ? { admitted: true } : { admitted: false, retryAfterMs: reply[1], reason: reply[2] };
  }

  async end(keys: AttemptKeys, attemptId: string, succeeded: boolean): Promise<void> {
    await this.scripts.loginEnd(...this.keysOf(keys), attemptId, succeeded ? '1' : '0');
  }
}

/** Records kept at most, per kind; past it, records that hold nobody back go first (see makeRoom). */
const MEMORY_LIMIT = 100_000;

interface PlaceRecord {
  count: number;
  lastAt: number;
}
interface AccountRecord {
  windowStart: number;
  failures: number;
  inFlight: Map<string, number>;
}

export class MemoryLoginAttemptStore extends LoginAttemptStore {
  private readonly places = new Map<string, PlaceRecord>();
  private readonly accounts = new Map<string, AccountRecord>();

  constructor(private readonly limit = MEMORY_LIMIT) {
    super();
  }

  // no await inside: the check and the count happen in one turn of the event loop
  async begin({ account, place }: AttemptKeys, attemptId: string, now: number, p: AttemptPolicy): Promise<Admission> {
    const placeRecord = this.places.get(place);
    if (placeRecord) {
      const wait = waitAfter(placeRecord.count, p) - (now - placeRecord.lastAt);
      if (wait > 0) return { admitted: false, retryAfterMs: Math.ceil(wait), reason: 'PLACE' };
    }
    let accountRecord = this.accounts.get(account);
    if (!accountRecord || now - accountRecord.windowStart >= p.accountWindowMs) {
      accountRecord = { windowStart: now, failures: 0, inFlight: accountRecord?.inFlight ?? new Map() };
    }
    if (accountRecord.failures >= p.accountFailuresPerWindow) {
      return { admitted: false, retryAfterMs: accountRecord.windowStart + p.accountWindowMs - now, reason: 'ACCOUNT' };
    }
    for (const [id, startedAt] of accountRecord.inFlight) if (now - startedAt >= p.staleInFlightMs) accountRecord.inFlight.delete(id);
    if (accountRecord.inFlight.size >= p.maxInFlight) return { admitted: false, retryAfterMs: 1000, reason: 'IN_FLIGHT' };

    this.keep(
      this.places,
      place,
      { count: (placeRecord?.count ?? 0) + 1, lastAt: now },
      (r) => waitAfter(r.count, p) === 0 || now - r.lastAt > p.forgetPlaceAfterMs,
    );
    accountRecord.failures += 1;
    accountRecord.inFlight.set(attemptId, now);
    this.keep(this.accounts, account, accountRecord, (r) => r.inFlight.size === 0 && (r.failures < p.freeFailures || now - r.windowStart >= p.accountWindowMs));
    return { admitted: true };
  }

  async end({ account, place }: AttemptKeys, attemptId: string, succeeded: boolean): Promise<void> {
    const accountRecord = this.accounts.get(account);
    accountRecord?.inFlight.delete(attemptId);
    if (!succeeded) return;
    this.places.delete(place);
    if (accountRecord && accountRecord.failures > 0) accountRecord.failures -= 1;
  }

  /**
   * Stores a record within the bound. A full map first drops the records that hold nobody back
   * (`harmless`: no wait due, or long quiet), so failing on many other accounts cannot push out the
   * record of the one under attack; only if every record holds someone back does the oldest go.
   */
  private keep<T>(map: Map<string, T>, key: string, value: T, harmless: (record: T) => boolean): void {
    map.delete(key);
    if (map.size >= this.limit) {
      for (const [k, record] of map) if (harmless(record)) map.delete(k);
      if (map.size >= this.limit) map.delete(map.keys().next().value!);
    }
    map.set(key, value);
  }
}
