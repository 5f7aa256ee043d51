import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { clientKey } from '../common/client-address';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { AttemptKeys, AttemptPolicy, LoginAttemptStore, RefusalReason } from './login-attempt.store';

/**
 * The slow-down's numbers. From one address, an account gets 5 free failures, then each attempt
 * waits 1 s, 2 s, 4 s… (up to 15 min) after the last one, right password or not. From everywhere
 * together, an account gets 100 failures an hour. At most 2 of its attempts are weighed at once.
 */
export const LOGIN_POLICY: AttemptPolicy = {
  freeFailures: 5,
  firstWaitMs: 1000,
  maxWaitMs: 15 * 60_000,
  forgetPlaceAfterMs: 30 * 60_000,
  accountFailuresPerWindow: 100,
  accountWindowMs: 60 * 60_000,
  maxInFlight: 2,
  // an attempt whose process died is not waited for longer than this (argon2 takes well under a second)
  staleInFlightMs: 30_000,
};

const MESSAGES: Record<RefusalReason, string> = {
  PLACE: 'Too many failed log-ins for this account from your address',
  ACCOUNT: 'Too many failed log-ins for this account this hour',
  IN_FLIGHT: 'Another log-in to this account is being checked',
};

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

/** One admitted attempt, to be ended with its outcome. */
interface Attempt {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

/**
 * Slows password guessing without handing the owner's account to whoever guesses. Each attempt is
 * admitted, and counted as a failure, in one atomic step *before* the password is weighed, so
 * attempts sent at once cannot all slip past the check (LoginAttemptStore.begin). The wait is kept
 * per account *and* client address: guessing from one place slows that place, while the owner
 * logging in from elsewhere is not held up. The account-wide hourly bound stops guessing spread
 * over many addresses, and the in-flight bound keeps a flood on one account from occupying the
 * password hasher. Keys are hashes of the email (and address), never the email.
 */
@Injectable()
export class LoginAttempts {
  constructor(private readonly store: LoginAttemptStore) {}

  /** Admits an attempt for this email from this address, or throws 429 RATE_LIMITED with Retry-After. */
  private async begin(email: string, address: string): Promise<Attempt> {
    const account = hash(email.toLowerCase());
    const keys: AttemptKeys = { account, place: hash(account, clientKey(address)) };
    const attemptId = randomUUID();
    const admission = await this.store.begin(keys, attemptId, Date.now(), LOGIN_POLICY);
    if (!admission.admitted) {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      throw new DomainError(ErrorCode.RATE_LIMITED, `${MESSAGES[admission.reason]}; retry in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
    return {
      succeeded: () => this.store.end(keys, attemptId, true),
      failed: () => this.store.end(keys, attemptId, false),
    };
  }

  /**
   * Weighs one password guess for this email from this address: admitted first (or 429), then
   * `check`, which gives what the guess unlocks or undefined when it is wrong, then ended with that
   * outcome. A check that throws counts as a failure: it was admitted, and an outage is no way
   * around the slow-down.
   */
  async weigh<T>(email: string, address: string, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const attempt = await this.begin(email, address);
    let unlocked: T | undefined;
    try {
      unlocked = await check();
    } catch (error) {
      await attempt.failed();
      throw error;
    }
    await (unlocked === undefined ? attempt.failed() : attempt.succeeded());
    return unlocked;
  }
}
