import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { DomainError, unavailable } from '../common/errors/domain.error';
import { RepeatingPass } from '../common/repeating-pass';
import type { ErrorCode } from '../common/errors/error-code';
import type { IssueView } from './issue.view';
import type { IssueOutcome } from './strategies/issuance.strategy';

/** The first answer to a key, as it was given: its HTTP status and body. */
export interface KeptAnswer {
  status: number;
  body: unknown;
}

/**
 * What a request with a key finds: the first answer (a repeat), the key its own to answer (a new
 * request; `retry` when an earlier attempt with it ended without a known outcome).
 */
export type Claim = { kind: 'answered'; answer: KeptAnswer } | { kind: 'claimed'; retry: boolean };

/** An outcome as the key keeps it: the status and body the client was given. */
export const kept = (outcome: IssueOutcome): KeptAnswer =>
  outcome.status === 'ISSUED' ? { status: 201, body: outcome.issue } : { status: 202, body: outcome };

/** A kept answer given again: the same status and body (a refusal, as the same error). */
export function replayed({ status, body }: KeptAnswer): IssueOutcome {
  if (status === 201) return { status: 'ISSUED', issue: body as IssueView };
  if (status === 202) return body as IssueOutcome;
  const { code, message } = body as { code: ErrorCode; message: string };
  throw new DomainError(code, message);
}

/** How long an answer is kept (API.md: 24 hours). */
const KEPT_FOR = `interval '24 hours'`;
/** A claim older than this was made by a process that died: the next request takes it over. */
const CLAIM_ABANDONED_AFTER = `interval '30 seconds'`;
/** How long a repeat waits for the first request's answer, asking this often. */
const WAIT_FOR_ANSWER_MS = 10_000;
const ASK_EVERY_MS = 25;
const PURGE_EVERY_MS = 60 * 60_000;

/**
 * A key is claimed by the one request that inserts it (or takes over an expired, undecided or
 * abandoned one); a request that finds it claimed waits for that one's answer. PostgreSQL's
 * unique key decides between two at once, so a double click gets one answer, twice.
 */
const CLAIM_SQL = `
  WITH prior AS (SELECT status, created_at < now() - ${KEPT_FOR} AS expired FROM idempotency_keys WHERE user_id = $1 AND coupon_id = $2 AND key = $3)
  INSERT INTO idempotency_keys AS k (user_id, coupon_id, key) VALUES ($1, $2, $3)
  ON CONFLICT (user_id, coupon_id, key) DO UPDATE SET status = NULL, body = NULL, created_at = now()
   WHERE k.created_at < now() - ${KEPT_FOR} OR k.status = 0 OR (k.status IS NULL AND k.created_at < now() - ${CLAIM_ABANDONED_AFTER})
  RETURNING EXISTS (SELECT 1 FROM prior WHERE NOT expired) AS retry`;

const ANSWER_SQL = `SELECT status, body FROM idempotency_keys WHERE user_id = $1 AND coupon_id = $2 AND key = $3 AND created_at > now() - ${KEPT_FOR}`;

/**
 * `Idempotency-Key` on an issue request, kept in PostgreSQL for every strategy (Stripe's design):
 * key -> the first answer, per user and coupon, for 24 hours. A repeat gets that answer again,
 * whatever happened since; another key is another request. An attempt that ended without a
 * known outcome (503) is not an answer: the next one with the key is a retry of it.
 */
@Injectable()
export class IdempotencyKeys implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly purger = new RepeatingPass(
    PURGE_EVERY_MS,
    () => this.purge(),
    () => undefined, // the next hour's pass purges what this one could not
  );

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onApplicationBootstrap(): void {
    this.purger.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.purger.stop();
  }

  /** The key's first answer, or the key claimed for this request; waits while another request holds it. */
  async claim(userId: number, couponId: number, key: string): Promise<Claim> {
    for (const deadline = Date.now() + WAIT_FOR_ANSWER_MS; ; await sleep(ASK_EVERY_MS)) {
      const [claimed] = await this.db.query<{ retry: boolean }[]>(CLAIM_SQL, [userId, couponId, key]);
      if (claimed) return { kind: 'claimed', retry: claimed.retry };
      const [kept] = await this.db.query<{ status: number | null; body: unknown }[]>(ANSWER_SQL, [userId, couponId, key]);
      if (kept?.status) return { kind: 'answered', answer: { status: kept.status, body: kept.body } };
      if (Date.now() > deadline) throw unavailable('a request with this Idempotency-Key is still being answered; ask again');
    }
  }

  /** The claimed key's answer, kept. */
  async answer(userId: number, couponId: number, key: string, answer: KeptAnswer): Promise<void> {
    await this.db.query(`UPDATE idempotency_keys SET status = $4, body = $5 WHERE user_id = $1 AND coupon_id = $2 AND key = $3 AND status IS NULL`, [
      userId,
      couponId,
      key,
      answer.status,
      JSON.stringify(answer.body),
    ]);
  }

  /** The claimed key's attempt ended without a known outcome: the next one with it is a retry. */
  async undecided(userId: number, couponId: number, key: string): Promise<void> {
    await this.db.query(`UPDATE idempotency_keys SET status = 0 WHERE user_id = $1 AND coupon_id = $2 AND key = $3 AND status IS NULL`, [
      userId,
      couponId,
      key,
    ]);
  }

  private async purge(): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE created_at < now() - ${KEPT_FOR}`);
  }
}
