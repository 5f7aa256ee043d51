import type { EventMismatch } from './event-audit';
import { Entry, FaultRecord, History } from './history';

/**
 * What the contract lets happen besides the plain outcome, one rule a line, each with the words
 * of the contract (the README's API reference) it rests on. The checks below allow these and
 * nothing else.
 */
export const ALLOWED = {
  unknownOutcome: 'a request answered 503, or not at all, may or may not have happened ("503 UNAVAILABLE": the outcome is unknown; asking again is safe)',
  redisEmpty: 'a 202 whose request was still queued when Redis was emptied may be lost ("Only a Redis restarted empty loses the requests still queued")',
  concurrent: 'a give-back or a revocation overlapping a request may take effect before or after it (two requests at once are ordered by the service)',
  sameOrderRef: 'a redemption repeated with the same orderRef is answered 200 again ("repeating a redemption with the same orderRef answers 200 again")',
} as const;

export interface FinalState {
  /** Coupons that still exist, with their counter and total. */
  coupons: Map<number, { total: number; issued: number }>;
  /** Rows: coupon -> user -> the row. */
  rows: Map<number, Map<number, { code: string; redeemed: boolean; orderRef: string | null }>>;
  /** Cancellations: `${coupon}:${user}:${reason}` -> how many. */
  cancellations: Map<string, number>;
  cancelledCodes: Set<string>;
  /** Per coupon, Redis' view once settled (redis, queue): undefined when no state is installed. */
  redis: Map<number, { taken: number; holders: Set<number>; pending: number } | undefined>;
  /** Coupons with requests still pending, or give-backs unfinished, when the checker stopped waiting. */
  stillPending: number[];
  /** Issues whose changes and events (coupon_events) disagree. */
  events: EventMismatch[];
}

export interface Violation {
  rule: string;
  couponId?: number;
  userId?: number;
  detail: string;
}

const isYes = (e: Entry) => e.op === 'issue' && (e.status === 201 || e.status === 202);
const isMaybe = (e: Entry) => History.undecided(e);
const emptied = (f: FaultRecord) => f.kind === 'redis-flush' || f.kind === 'redis-restart-empty';

/** Checks the history and the final state against the contract; every violation found. */
export function check(history: History, final: FinalState): Violation[] {
  const out: Violation[] = [];
  const byPair = new Map<string, Entry[]>();
  for (const e of history.entries) {
    if (e.couponId === undefined || e.userId === undefined) continue;
    const key = `${e.couponId}:${e.userId}`;
    byPair.set(key, [...(byPair.get(key) ?? []), e]);
  }
  const deleted = new Map<number, Entry>();
  for (const e of history.entries) if (e.op === 'delete' && e.status === 204) deleted.set(e.couponId!, e);

  // no 500: an error the service did not mean to give
  for (const e of history.entries) {
    if (e.status >= 500 && e.status !== 503) out.push({ rule: 'no-500', couponId: e.couponId, userId: e.userId, detail: History.describe(e) });
  }

  for (const [pair, entries] of byPair) {
    const [couponId, userId] = pair.split(':').map(Number);
    const row = final.rows.get(couponId)?.get(userId);
    const releases = entries.filter((e) => (e.op === 'giveBack' || e.op === 'revoke') && (e.status === 204 || isMaybe(e)));
    // a key's repeat answered after its first answer is that answer again, not a new request
    // ("a repeat gets the first answer again, whatever happened since"): it neither asks nor says yes
    const replays = new Set(
      entries
        .filter(
          (e) =>
            e.op === 'issue' &&
            e.args?.key &&
            entries.some((p) => p.op === 'issue' && p.args?.key === e.args?.key && p.t1 <= e.t0 && !isMaybe(p) && p.status !== 429),
        )
        .map((e) => e.n),
    );
    const asks = entries.filter((e) => e.op === 'issue' && !replays.has(e.n) && (isYes(e) || isMaybe(e)));

    // every yes ends with a row, unless released after it (or lost with a Redis emptied while it was queued)
    const yes = entries.filter((e) => isYes(e) && !replays.has(e.n));
    const lastYes = yes[yes.length - 1];
    if (lastYes && !row) {
      const released = releases.some((r) => r.t1 > lastYes.t0);
      const seenIssued = entries.some((e) => e.op === 'poll' && e.body?.status === 'ISSUED' && e.t0 > lastYes.t0);
      const lostWithRedis =
        lastYes.status === 202 &&
        history.faults.some(
          (f) => emptied(f) && f.t1 > lastYes.t0 && !entries.some((e) => e.op === 'poll' && e.body?.status === 'ISSUED' && e.t1 < f.t0 && e.t0 > lastYes.t0),
        );
      if (!released && !lostWithRedis) {
        const gone = deleted.has(couponId) ? ' (the coupon was deleted)' : '';
        out.push({
          rule: 'yes-kept',
          couponId,
          userId,
          detail: `answered ${lastYes.status} at ${lastYes.t1} ms, holds nothing now${gone}${seenIssued ? ', although a poll saw it ISSUED' : ''}`,
        });
      }
    }

    // a 202 never turns into REJECTED
    for (const poll of entries.filter((e) => e.op === 'poll' && e.body?.status === 'REJECTED')) {
      const before = entries.filter((e) => e.op === 'issue' && e.t1 < poll.t0 && e.status !== 429);
      const last = before[before.length - 1];
      if (last?.status === 202) out.push({ rule: 'no-202-rejected', couponId, userId, detail: `${History.describe(poll)} after ${History.describe(last)}` });
    }

    // a user who gave back holds nothing unless they asked again
    const gaveBack = entries.filter((e) => e.op === 'giveBack' && e.status === 204);
    const lastGiveBack = gaveBack[gaveBack.length - 1];
    if (lastGiveBack && row && !row.redeemed && asks.every((a) => a.t1 < lastGiveBack.t0)) {
      out.push({
        rule: 'given-back-stays-back',
        couponId,
        userId,
        detail: `gave back at ${lastGiveBack.t1} ms (204), asked nothing after, yet holds ${row.code}`,
      });
    }

    // a row leaves only by its holder's give-back or an admin's revocation
    for (const reason of ['GIVEN_BACK', 'REVOKED'] as const) {
      const removed = final.cancellations.get(`${couponId}:${userId}:${reason}`) ?? 0;
      const acts = entries.filter((e) => e.op === (reason === 'GIVEN_BACK' ? 'giveBack' : 'revoke') && (e.status === 204 || isMaybe(e))).length;
      if (removed > acts)
        out.push({ rule: 'no-removal-without-act', couponId, userId, detail: `${removed} rows cancelled as ${reason}, ${acts} such requests made` });
    }

    // a redemption happens once
    const redeemed = entries.filter((e) => e.op === 'redeem' && e.status === 200);
    const byCode = new Map<string, Entry[]>();
    for (const e of redeemed) byCode.set(String(e.args?.code), [...(byCode.get(String(e.args?.code)) ?? []), e]);
    for (const [code, wins] of byCode) {
      const refs = wins.map((w) => w.args?.orderRef ?? `(none #${w.n})`);
      if (new Set(refs).size > 1) out.push({ rule: 'redeemed-once', couponId, userId, detail: `code ${code} redeemed for ${[...new Set(refs)].join(', ')}` });
      if (final.cancelledCodes.has(code)) out.push({ rule: 'redeemed-stays', couponId, userId, detail: `code ${code} was redeemed, then cancelled` });
    }

    // an Idempotency-Key repeated gets the first answer again
    const byKey = new Map<string, Entry[]>();
    for (const e of entries)
      if (e.op === 'issue' && e.args?.key && !isMaybe(e) && e.status !== 429) byKey.set(String(e.args.key), [...(byKey.get(String(e.args.key)) ?? []), e]);
    for (const [key, answers] of byKey) {
      const first = answers[0];
      for (const later of answers.slice(1)) {
        const same = later.status === first.status && (first.status !== 201 || later.body?.issueId === first.body?.issueId) && later.code === first.code;
        if (!same)
          out.push({ rule: 'idempotency-key', couponId, userId, detail: `key ${key}: first ${History.describe(first)}, then ${History.describe(later)}` });
      }
    }
  }

  // the coupon's counter equals its rows, within its total; Redis agrees once nothing is pending
  for (const [couponId, c] of final.coupons) {
    const rows = final.rows.get(couponId)?.size ?? 0;
    if (c.issued !== rows || rows > c.total) out.push({ rule: 'counter', couponId, detail: `issued_quantity ${c.issued}, rows ${rows}, total ${c.total}` });
    const r = final.redis.get(couponId);
    if (r && (r.taken !== rows || r.holders.size !== rows || r.pending !== 0)) {
      const held = final.rows.get(couponId) ?? new Map();
      const extra = [...r.holders].filter((u) => !held.has(u));
      const missing = [...held.keys()].filter((u) => !r.holders.has(u));
      out.push({
        rule: 'redis-agrees',
        couponId,
        userId: extra[0] ?? missing[0],
        detail: `Redis taken ${r.taken}, holders ${r.holders.size}, pending ${r.pending}; PostgreSQL rows ${rows}; listed without a row: ${extra.join(' ') || '-'}; rows not listed: ${missing.join(' ') || '-'}`,
      });
    }
  }
  for (const couponId of final.stillPending)
    out.push({ rule: 'settles', couponId, detail: 'requests still pending, or give-backs unfinished, long after the last fault' });
  // every change has its event and every event its change, whatever crashed ("in the same transaction as the change")
  for (const m of final.events) out.push({ rule: 'events-match', couponId: m.couponId, userId: m.userId, detail: `issue ${m.issueId}: ${m.what}` });
  return out;
}

/** The few requests and faults around one violation, in time order, for the report. */
export function storyOf(history: History, v: Violation): string[] {
  const lines = history.entries
    .filter(
      (e) =>
        e.couponId === v.couponId &&
        (v.userId === undefined ? e.who === 'admin' : e.userId === v.userId || (e.who === 'admin' && e.op !== 'read' && e.op !== 'history')),
    )
    .map((e) => ({ t: e.t0, line: History.describe(e) }));
  for (const f of history.faults)
    lines.push({
      t: f.t0,
      line: `   ${String(f.t0).padStart(6)}-${String(f.t1).padEnd(6)} FAULT ${f.kind} (target ${f.target}, coupon ${f.couponId})${f.error ? ' failed: ' + f.error : ''}`,
    });
  return lines.sort((a, b) => a.t - b.t).map((l) => l.line);
}
