import { setTimeout as sleep } from 'node:timers/promises';
import { History, Entry } from './history';
import type { AdminStep, Fault, Schedule, Visit } from './schedule';
import type { System } from './system';

const REQUEST_TIMEOUT_MS = 15_000;
const POLL_EVERY_MS = 150;
const POLL_FOR_MS = 20_000;

export interface Actor {
  userId: number;
  token: string;
}

/**
 * Plays a schedule against the running system and records every request and its answer: users
 * visit (issue, poll, give back, redeem), the admin changes campaigns, faults strike. Each user
 * does one thing at a time (a double click sends two at once), as a person at a browser would.
 */
export class Driver {
  readonly history = new History();
  /** Coupon ids by schedule index (made up front or by an admin step). */
  readonly coupons: (number | undefined)[] = [];
  /** The code a user last saw as theirs, per coupon index. */
  private readonly codes = new Map<string, string>();
  private readonly lastKey = new Map<number, { coupon: number; key: string }>();
  private stopped = false;

  constructor(
    private readonly system: System,
    private readonly schedule: Schedule,
    private readonly users: Actor[],
    private readonly admin: Actor,
  ) {}

  private base(api: number): string {
    return this.system.apis[api % this.system.apis.length].baseUrl;
  }

  async request(
    who: string,
    op: string,
    api: number,
    method: string,
    path: string,
    token: string,
    opts: { body?: unknown; headers?: Record<string, string>; couponId?: number; userId?: number; args?: Record<string, unknown> } = {},
  ): Promise<Entry> {
    const t0 = this.history.now();
    let status = 0;
    let body: Entry['body'];
    try {
      const res = await fetch(this.base(api) + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = res.status;
      const text = await res.text();
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // no answer (refused, reset, timed out): status 0
    }
    return this.history.add({
      who,
      op,
      couponId: opts.couponId,
      userId: opts.userId,
      args: opts.args,
      t0,
      t1: this.history.now(),
      status,
      code: body?.code,
      body,
    });
  }

  async createCoupons(): Promise<void> {
    for (const [index, total] of this.schedule.totals.entries()) {
      const e = await this.request('admin', 'create', 0, 'POST', '/coupons', this.admin.token, {
        body: { name: `chaos ${index}`, totalQuantity: total, validDays: 30 },
        args: { index, total },
      });
      if (e.status !== 201) throw new Error(`could not create coupon ${index}: ${e.status} ${JSON.stringify(e.body)}`);
      this.coupons[index] = e.body.id;
    }
  }

  /** Runs the whole schedule; resolves when every visit, admin step and fault is over. */
  async run(): Promise<void> {
    const byUser = new Map<number, Visit[]>();
    for (const v of this.schedule.visits) byUser.set(v.user, [...(byUser.get(v.user) ?? []), v]);
    const userRuns = [...byUser.entries()].map(async ([user, visits]) => {
      for (const visit of visits) {
        await this.until(visit.at);
        if (this.stopped) return;
        await this.visit(visit, this.users[user]);
      }
    });
    const adminRun = (async () => {
      for (const step of this.schedule.admin) {
        await this.until(step.at);
        void this.adminStep(step); // admin changes overlap each other as two admins' would
      }
    })();
    const faultRun = (async () => {
      for (const fault of this.schedule.faults) {
        await this.until(fault.at);
        await this.inject(fault); // one fault at a time
      }
    })();
    await Promise.all([...userRuns, adminRun, faultRun]);
  }

  private async until(at: number): Promise<void> {
    const wait = at - this.history.now();
    if (wait > 0) await sleep(wait);
  }

  private async visit(visit: Visit, user: Actor): Promise<void> {
    const couponId = this.coupons[visit.coupon];
    if (couponId === undefined) return; // its creation failed (a fault): nothing to visit
    const who = `user ${user.userId}`;
    const codeKey = `${visit.coupon}:${user.userId}`;
    const common = { couponId, userId: user.userId };
    const remember = (e: Entry) => {
      const code = e.status === 201 ? e.body?.code : e.body?.status === 'ISSUED' ? e.body.issue?.code : undefined;
      if (code) this.codes.set(codeKey, code);
    };
    for (const step of visit.steps) {
      switch (step.op) {
        case 'issue': {
          const headers = step.key ? { 'idempotency-key': step.key } : undefined;
          if (step.key) this.lastKey.set(user.userId, { coupon: visit.coupon, key: step.key });
          const send = () =>
            this.request(who, 'issue', visit.api, 'POST', `/coupons/${couponId}/issue`, user.token, {
              ...common,
              headers,
              args: step.key ? { key: step.key } : undefined,
            });
          const answers = step.double ? await Promise.all([send(), send()]) : [await send()];
          answers.forEach(remember);
          break;
        }
        case 'repeatKey': {
          const last = this.lastKey.get(user.userId);
          if (!last || last.coupon !== visit.coupon) break;
          remember(
            await this.request(who, 'issue', visit.api + 1, 'POST', `/coupons/${couponId}/issue`, user.token, {
              ...common,
              headers: { 'idempotency-key': last.key },
              args: { key: last.key, repeat: true },
            }),
          );
          break;
        }
        case 'poll': {
          const deadline = this.history.now() + POLL_FOR_MS;
          for (;;) {
            const e = await this.request(who, 'poll', visit.api, 'GET', `/coupons/${couponId}/issue`, user.token, common);
            remember(e);
            if (!step.untilSettled || e.body?.status !== 'PENDING' || this.history.now() > deadline) break;
            await sleep(POLL_EVERY_MS);
          }
          break;
        }
        case 'giveBack': {
          const send = () => this.request(who, 'giveBack', visit.api, 'DELETE', `/coupons/${couponId}/issue`, user.token, common);
          const answers = step.double ? await Promise.all([send(), send()]) : [await send()];
          if (answers.some((e) => e.status === 204)) this.codes.delete(codeKey);
          break;
        }
        case 'redeem': {
          const code = this.codes.get(codeKey);
          if (!code) break;
          const orderRef = step.repeat === 'other' ? `${step.orderRef ?? 'order'}-other` : step.orderRef;
          await this.request(who, 'redeem', visit.api, 'POST', '/issues/redeem', user.token, {
            ...common,
            body: { code, ...(orderRef ? { orderRef } : {}) },
            args: { code, orderRef },
          });
          break;
        }
      }
    }
  }

  private async adminStep(step: AdminStep): Promise<void> {
    const { action } = step;
    const token = this.admin.token;
    if (action.op === 'create') {
      const e = await this.request('admin', 'create', step.api, 'POST', '/coupons', token, {
        body: { name: `chaos ${step.coupon}`, totalQuantity: action.total },
        args: { index: step.coupon },
      });
      if (e.status === 201) this.coupons[step.coupon] = e.body.id;
      return;
    }
    const couponId = this.coupons[step.coupon];
    if (couponId === undefined) return;
    const path = `/coupons/${couponId}`;
    const patch = (body: Record<string, unknown>) => this.request('admin', 'patch', step.api, 'PATCH', path, token, { couponId, body, args: body });
    switch (action.op) {
      case 'rename':
        await patch({ name: `chaos ${step.coupon} at ${this.history.now()}` });
        break;
      case 'total': {
        const current = await this.request('admin', 'read', step.api, 'GET', path, token, { couponId });
        if (current.status === 200) await patch({ totalQuantity: Math.max(1, current.body.totalQuantity + action.delta) });
        break;
      }
      case 'status':
        await patch({ status: action.status });
        break;
      case 'endSoon':
        await patch({ endsAt: new Date(Date.now() + action.inMs).toISOString() });
        break;
      case 'reopen':
        await patch({ endsAt: null, status: 'ACTIVE' });
        break;
      case 'revoke': {
        const page = await this.request('admin', 'history', step.api, 'GET', `${path}/issues?limit=20`, token, { couponId });
        const items = (page.body?.items ?? []) as { issueId: number; userId: number }[];
        if (!items.length) break;
        const target = items[step.at % items.length];
        await this.request('admin', 'revoke', step.api, 'DELETE', `${path}/issues/${target.issueId}`, token, {
          couponId,
          userId: target.userId,
          args: { issueId: target.issueId },
        });
        break;
      }
      case 'reconcile':
        await this.request('admin', 'reconcile', step.api, 'POST', `${path}/reconcile`, token, { couponId });
        break;
      case 'delete':
        await this.request('admin', 'delete', step.api, 'DELETE', path, token, { couponId });
        break;
    }
  }

  private async inject(fault: Fault): Promise<void> {
    const couponId = this.coupons[fault.target] ?? this.coupons[0]!;
    const t0 = this.history.now();
    let error: string | undefined;
    try {
      switch (fault.kind) {
        case 'kill-api':
          await this.system.killApi(fault.target, fault.ms);
          break;
        case 'kill-worker':
          await this.system.killWorker(fault.target, fault.ms);
          break;
        case 'redis-flush':
          await this.system.redisFlush();
          break;
        case 'redis-restart-aof':
          await this.system.redisRestart(fault.ms, { empty: false });
          break;
        case 'redis-restart-empty':
          await this.system.redisRestart(fault.ms, { empty: true });
          break;
        case 'redis-pause':
          await this.system.redisPause(Math.min(fault.ms, 2000));
          break;
        case 'cluster-master-kill':
          await this.system.clusterMasterKill(couponId, fault.ms);
          break;
        case 'row-lock':
          await this.system.rowLock(couponId, fault.ms);
          break;
        case 'postgres-restart':
          await this.system.postgresRestart(fault.ms);
          break;
      }
    } catch (e) {
      error = (e as Error).message;
    }
    this.history.faults.push({ kind: fault.kind, target: fault.target, couponId, t0, t1: this.history.now(), error });
  }

  stop(): void {
    this.stopped = true;
  }
}
