import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Counter } from 'prom-client';
import { IssuanceConfig } from '../../config/issuance.config';
import { MetricsService } from '../../metrics/metrics.service';
import { SoldOutFlags } from './sold-out-flags';
import { StockSignal } from './stock-signal';

/** Coupons with more holders than this get no flag: their snapshot would cost more than it saves. */
const MAX_FLAGGED_HOLDERS = 100_000;

/**
 * The sold-out flags of this API process, listening to the stock signal from start-up to
 * shutdown. Off (never refuses) when SOLD_OUT_FLAG_MS is 0.
 */
@Injectable()
export class SoldOutGate implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly flags: SoldOutFlags;
  readonly maxHolders = MAX_FLAGGED_HOLDERS;
  /** Requests answered SOLD_OUT by a flag, without Redis or PostgreSQL. */
  readonly answered: Counter;

  constructor(
    private readonly config: IssuanceConfig,
    private readonly signal: StockSignal,
    metrics: MetricsService,
  ) {
    this.flags = new SoldOutFlags(signal, { ttlMs: config.soldOutFlagMs, maxHolders: MAX_FLAGGED_HOLDERS });
    this.answered = new Counter({
      name: 'coupon_issue_sold_out_flag_answers_total',
      help: 'Issue requests answered SOLD_OUT by this process from its sold-out flag, without Redis or PostgreSQL',
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.soldOutFlagMs > 0) await this.signal.listen(this.flags);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.signal.close();
  }
}
