/** One request as the client saw it: sent at t0, answered at t1 (ms after the start). */
export interface Entry {
  n: number;
  who: string; // 'user 12' or 'admin'
  op: string; // issue, repeatKey, poll, giveBack, redeem, revoke, patch, create, delete, reconcile
  couponId?: number;
  userId?: number;
  /** What was sent that matters to the checks: the Idempotency-Key, the orderRef, the code, the issue revoked, the patch. */
  args?: Record<string, unknown>;
  t0: number;
  t1: number;
  /** HTTP status; 0 when no answer came (refused, reset, timed out). */
  status: number;
  code?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an answer as the client saw it, read field by field
  body?: any;
}

/** A fault as it happened: from `t0` until what it broke was back at `t1`. */
export interface FaultRecord {
  kind: string;
  target: number;
  couponId?: number;
  t0: number;
  t1: number;
  error?: string;
}

export class History {
  readonly entries: Entry[] = [];
  readonly faults: FaultRecord[] = [];
  private readonly started = performance.now();

  now(): number {
    return Math.round(performance.now() - this.started);
  }

  add(entry: Omit<Entry, 'n'>): Entry {
    const full = { n: this.entries.length, ...entry };
    this.entries.push(full);
    return full;
  }

  /** A request's answer never came: a status 0, a 5xx, or a 429 (nothing decided, or nothing known). */
  static undecided(e: Entry): boolean {
    return e.status === 0 || e.status >= 500;
  }

  static describe(e: Entry): string {
    const args = e.args ? ' ' + JSON.stringify(e.args) : '';
    const body = e.body && typeof e.body === 'object' ? (e.body as { status?: string; reason?: string }) : {};
    // a REJECTED poll says why (the reason tells which path refused a request)
    const what = e.code ?? [body.status, body.reason].filter(Boolean).join(' ');
    return `#${e.n} ${String(e.t0).padStart(6)}-${String(e.t1).padEnd(6)} ${e.who.padEnd(9)} ${e.op}${args} -> ${e.status}${what ? ' ' + what : ''}`;
  }
}
