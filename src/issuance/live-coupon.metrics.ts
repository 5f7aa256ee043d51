import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { IssuanceStrategy } from './strategies/issuance.strategy';

/** Live coupons reported at most: with more at once, the newest this many. */
const MAX_REPORTED = 50;
/** One snapshot serves every gauge of one scrape. */
const SNAPSHOT_TTL_MS = 1000;

const LIVE_COUPONS_SQL = `
  SELECT id, total_quantity AS total, issued_quantity AS issued
    FROM coupons
   WHERE status = 'ACTIVE' AND (ends_at IS NULL OR ends_at > now())
   ORDER BY id DESC
   LIMIT ${MAX_REPORTED}`;

interface LiveCouponFigures {
  couponId: string;
  issued: number;
  remaining: number;
  pending: number;
  /** Units Redis counts as taken minus rows PostgreSQL holds; null where the strategy keeps no Redis state. */
  stockGap: number | null;
}

/**
 * Per live coupon, at scrape time: issued (its rate() is the drain rate, across every process),
 * remaining, pending, and the Redis-vs-database stock gap. A gap that stays above the pending
 * count means units held back in Redis with no request behind them, which reconcile gives back.
 */
@Injectable()
export class LiveCouponMetrics implements OnModuleInit {
  private snapshot?: { at: number; figures: Promise<LiveCouponFigures[]> };

  constructor(
    private readonly metrics: MetricsService,
    private readonly strategy: IssuanceStrategy,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.gauge('coupon_live_issued', 'Coupons issued (PostgreSQL counter) per live coupon; rate() is the drain rate', (f) => f.issued);
    this.gauge('coupon_live_remaining', 'Stock left per live coupon', (f) => f.remaining);
    this.gauge('coupon_live_pending', 'Requests accepted but not yet written to PostgreSQL, per live coupon', (f) => f.pending);
    this.gauge('coupon_live_stock_gap', 'Units taken in Redis minus rows in PostgreSQL, per live coupon', (f) => f.stockGap);
  }

  private gauge(name: string, help: string, pick: (f: LiveCouponFigures) => number | null): void {
    const figures = () => this.figures();
    new Gauge({
      name,
      help,
      labelNames: ['coupon_id'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset(); // coupons that ended since the last scrape drop out
        for (const f of await figures().catch(() => [])) {
          const value = pick(f);
          if (value !== null) this.set({ coupon_id: f.couponId }, value);
        }
      },
    });
  }

  private figures(): Promise<LiveCouponFigures[]> {
    if (!this.snapshot || Date.now() - this.snapshot.at > SNAPSHOT_TTL_MS) {
      this.snapshot = { at: Date.now(), figures: this.read() };
    }
    return this.snapshot.figures;
  }

  private async read(): Promise<LiveCouponFigures[]> {
    const coupons = await this.db.query<{ id: string; total: number; issued: number }[]>(LIVE_COUPONS_SQL);
    return Promise.all(
      coupons.map(async ({ id, total, issued }) => {
        const stats = await this.strategy.stats(Number(id), issued);
        const reserved = stats.redisReserved;
        return {
          couponId: String(id),
          issued,
          remaining: Math.max(0, total - issued),
          pending: stats.pending,
          stockGap: typeof reserved === 'number' ? reserved - issued : null,
        };
      }),
    );
  }
}
