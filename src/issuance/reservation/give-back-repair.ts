import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReservationStore } from './reservation.store';

const REPAIR_EVERY_MS = 2000;

/**
 * Finishes give-backs whose caller died between their steps (reserved-cancellation.ts): a
 * tombstone past its deadline means step 3 never ran. PostgreSQL says how the give-back ended:
 * the row is gone (step 2 committed), so the unit goes back to stock; or the row is still there
 * (step 2 never ran, or was refused), so the holder keeps it and only the tombstone goes. Without
 * this, Redis would count the unit until someone ran reconcile. Every process with a reservation
 * state runs it; doing the same repair twice is harmless (a release moves `taken` once, and a
 * tombstone is ended only as it was found).
 */
@Injectable()
export class GiveBackRepair implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(GiveBackRepair.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reservations: ReservationStore,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.repair()
        .then((n) => n && this.logger.warn(`finished ${n} give-backs whose caller died between their steps`))
        .catch((error) => this.logger.warn(`give-back repair failed: ${(error as Error).message}`))
        .finally(() => (this.running = undefined));
    }, REPAIR_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over the coupons still in use; returns how many give-backs it finished. */
  async repair(): Promise<number> {
    const coupons = await this.db.query<{ id: number }[]>(`SELECT id FROM coupons WHERE status = 'ACTIVE' OR updated_at > now() - interval '1 day'`);
    let finished = 0;
    for (const { id: couponId } of coupons) {
      const expired = await this.reservations.expiredGiveBacks(couponId);
      if (!expired.size) continue;
      const rows = await this.db.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1 AND user_id = ANY($2::int[])`, [
        couponId,
        [...expired.keys()],
      ]);
      const held = new Set(rows.map((r) => Number(r.user_id)));
      for (const [userId, deadline] of expired) {
        if (held.has(userId)) await this.reservations.endGiveBack(couponId, userId, deadline);
        else await this.reservations.release(couponId, userId);
        finished++;
      }
    }
    return finished;
  }
}
