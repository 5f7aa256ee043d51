import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { LoginAttemptStore } from './login-attempt.store';

/** Failed log-ins an account may have before it must wait. */
const FREE_FAILURES = 5;
/** The wait after the FREE_FAILURES-th failure; it doubles with each failure after, up to the cap. */
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 15 * 60_000;
/** A quiet account forgets its failures after this long. */
const FORGET_AFTER_MS = 2 * MAX_WAIT_MS;

const waitAfter = (failures: number): number => (failures < FREE_FAILURES ? 0 : Math.min(FIRST_WAIT_MS * 2 ** (failures - FREE_FAILURES), MAX_WAIT_MS));

/**
 * Slows password guessing per account, whatever IPs it comes from (the per-IP limit is the other
 * half): after FREE_FAILURES failures, every attempt, right password or not, must wait a time that
 * doubles with each further failure. A success forgets the failures. Counted in the
 * LoginAttemptStore (Redis, shared by all instances, where the service has it). Keys hold a hash
 * of the email, not the email.
 */
@Injectable()
export class LoginAttempts {
  constructor(private readonly store: LoginAttemptStore) {}

  /** Throws 429 RATE_LIMITED, with Retry-After, while this account must wait. */
  async assertAllowed(email: string): Promise<void> {
    const failures = await this.store.read(keyOf(email));
    const waitMs = failures ? waitAfter(failures.count) - (Date.now() - failures.lastAt) : 0;
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new DomainError(ErrorCode.RATE_LIMITED, `Too many failed log-ins for this account; retry in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  recordFailure(email: string): Promise<void> {
    return this.store.recordFailure(keyOf(email), FORGET_AFTER_MS);
  }

  recordSuccess(email: string): Promise<void> {
    return this.store.forget(keyOf(email));
  }
}

const keyOf = (email: string) => `login-failures:${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32)}`;
