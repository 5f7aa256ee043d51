import { Random } from './random';

export type Strategy = 'pessimistic' | 'redis' | 'queue';

/** What one user does in one visit, step by step (each step waits for the one before). */
export type Step =
  | { op: 'issue'; key?: string; double?: boolean }
  | { op: 'repeatKey' } // the last Idempotency-Key sent again
  | { op: 'poll'; untilSettled?: boolean }
  | { op: 'giveBack'; double?: boolean }
  | { op: 'redeem'; orderRef?: string; repeat?: 'same' | 'other' };

export interface Visit {
  at: number; // ms after the start
  user: number; // index into the users
  coupon: number; // index into the coupons (created up front, or by an admin step before `at`)
  api: number;
  steps: Step[];
}

export type AdminOp =
  | { op: 'rename' }
  | { op: 'total'; delta: number }
  | { op: 'status'; status: 'ACTIVE' | 'PAUSED' }
  | { op: 'endSoon'; inMs: number } // endsAt a moment from now: a backlog meets the campaign's end
  | { op: 'reopen' } // endsAt cleared, status ACTIVE
  | { op: 'revoke' } // one of the coupon's issues, picked from its history when it runs
  | { op: 'reconcile' }
  | { op: 'create'; total: number } // a coupon of its own (index `coupon`), asked for at once, then deleted
  | { op: 'delete' };

export interface AdminStep {
  at: number;
  coupon: number;
  api: number;
  action: AdminOp;
}

export type FaultKind =
  | 'kill-api'
  | 'kill-worker'
  | 'redis-flush'
  | 'redis-restart-aof'
  | 'redis-restart-empty'
  | 'redis-pause'
  | 'cluster-master-kill'
  | 'row-lock'
  | 'postgres-restart';

export interface Fault {
  at: number;
  kind: FaultKind;
  target: number; // which API, worker or coupon
  ms: number; // how long it lasts (down, paused, held)
}

export interface Schedule {
  seed: number;
  strategy: Strategy;
  seconds: number;
  users: number;
  /** Totals of the coupons made before the run; admin 'create' steps add more after them. */
  totals: number[];
  visits: Visit[];
  admin: AdminStep[];
  faults: Fault[];
}

export interface ScheduleOptions {
  seed: number;
  strategy: Strategy;
  seconds: number;
  users: number;
  coupons: number;
  cluster: boolean;
  apis: number;
  workers: number;
  /** Fault kinds left out (a hole not closed yet, or a fault this machine cannot make). */
  withoutFaults: FaultKind[];
  withoutOps: string[];
}

const REDIS_FAULTS: FaultKind[] = ['redis-flush', 'redis-restart-aof', 'redis-restart-empty', 'redis-pause'];

/** Fault kinds that make sense for this strategy and Redis. */
export function faultKinds(o: Pick<ScheduleOptions, 'strategy' | 'cluster' | 'workers' | 'withoutFaults'>): FaultKind[] {
  const kinds: FaultKind[] = ['kill-api', 'row-lock', 'postgres-restart'];
  if (o.strategy === 'queue' && o.workers > 0) kinds.push('kill-worker');
  if (o.strategy !== 'pessimistic') kinds.push(...(o.cluster ? (['cluster-master-kill', 'redis-pause'] as FaultKind[]) : REDIS_FAULTS));
  return kinds.filter((k) => !o.withoutFaults.includes(k));
}

/**
 * The whole run, drawn from the seed before anything starts: every visit of every user, every
 * admin change and every fault, each with its time. The same options give the same schedule.
 */
export function makeSchedule(o: ScheduleOptions): Schedule {
  const r = new Random(o.seed);
  const span = o.seconds * 1000;
  const totals = Array.from({ length: o.coupons }, () => r.int(5, 40));
  const keyOf = (user: number, n: number) => `k-${o.seed}-${user}-${n}`;

  const admin: AdminStep[] = [];
  let couponCount = o.coupons;
  const couponsBy: { at: number; index: number }[] = totals.map((_, index) => ({ at: 0, index }));
  for (let at = r.int(300, 1500); at < span; at += r.int(400, 1800)) {
    const coupon = r.int(0, o.coupons - 1);
    const api = r.int(0, o.apis - 1);
    const kind = r.weighted({ rename: 1, total: 3, status: 2, endSoon: 2, reopen: 2, revoke: 3, reconcile: 1, create: 1, delete: 1 });
    if (o.withoutOps.includes(kind)) continue;
    if (kind === 'create') {
      const index = couponCount++;
      admin.push({ at, coupon: index, api, action: { op: 'create', total: r.int(3, 15) } });
      couponsBy.push({ at: at + 200, index });
      // deleted while its first requests may still be pending
      admin.push({ at: at + r.int(200, 1500), coupon: index, api, action: { op: 'delete' } });
      continue;
    }
    const action: AdminOp =
      kind === 'total'
        ? { op: 'total', delta: r.pick([-10, -5, -2, -1, 1, 2, 5, 10]) }
        : kind === 'status'
          ? { op: 'status', status: r.pick(['ACTIVE', 'PAUSED'] as const) }
          : kind === 'endSoon'
            ? { op: 'endSoon', inMs: r.int(100, 1500) }
            : ({ op: kind } as AdminOp);
    admin.push({ at, coupon, api, action });
  }
  admin.sort((a, b) => a.at - b.at);

  const visits: Visit[] = [];
  for (let user = 0; user < o.users; user++) {
    let n = 0;
    for (let at = r.int(0, 2000); at < span; at += r.int(500, 6000)) {
      const open = couponsBy.filter((c) => c.at <= at);
      // most visits go to the long-lived coupons, some to a short-lived one while it lives
      const coupon = r.chance(0.85) ? r.int(0, o.coupons - 1) : r.pick(open).index;
      const steps: Step[] = [];
      const key = r.chance(0.4) ? keyOf(user, n++) : undefined;
      steps.push({ op: 'issue', key, double: r.chance(0.1) });
      if (key && r.chance(0.3)) steps.push({ op: 'repeatKey' });
      steps.push({ op: 'poll', untilSettled: true });
      // (a step left out by --without-ops is still drawn, so the rest of the schedule stays the same)
      const then = r.weighted({ nothing: 3, giveBack: 3, redeem: 3, giveBackAndAgain: 2, withdrawAtOnce: 2 });
      if (then === 'giveBack' || then === 'giveBackAndAgain') steps.push({ op: 'giveBack', double: r.chance(0.15) });
      if (then === 'giveBackAndAgain') steps.push({ op: 'issue', key: r.chance(0.3) ? keyOf(user, n++) : undefined }, { op: 'poll', untilSettled: true });
      if (then === 'withdrawAtOnce') {
        // asked, withdrawn before it settles (queue), asked again at once
        steps.splice(steps.length - 1, 1, { op: 'giveBack' }, { op: 'issue' }, { op: 'poll', untilSettled: true });
      }
      if (then === 'redeem') {
        const orderRef = r.chance(0.7) ? `order-${user}-${n++}` : undefined;
        steps.push({ op: 'redeem', orderRef });
        if (r.chance(0.3)) steps.push({ op: 'redeem', orderRef, repeat: r.chance(0.5) ? 'same' : 'other' });
      }
      if (key && r.chance(0.2)) steps.push({ op: 'repeatKey' });
      visits.push({ at, user, coupon, api: r.int(0, o.apis - 1), steps: steps.filter((s) => !o.withoutOps.includes(s.op)) });
    }
  }
  visits.sort((a, b) => a.at - b.at);

  const kinds = faultKinds(o);
  const faults: Fault[] = [];
  if (kinds.length) {
    for (let at = r.int(1500, 4000); at < span - 1000; at += r.int(2500, 7000)) {
      const kind = r.pick(kinds);
      const target = kind === 'kill-api' ? r.int(0, o.apis - 1) : kind === 'kill-worker' ? r.int(0, o.workers - 1) : r.int(0, o.coupons - 1);
      faults.push({ at, kind, target, ms: r.int(300, 3000) });
    }
  }
  return { seed: o.seed, strategy: o.strategy, seconds: o.seconds, users: o.users, totals, visits, admin, faults };
}
