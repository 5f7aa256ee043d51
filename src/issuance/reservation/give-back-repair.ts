import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RepeatingPass } from '../../common/repeating-pass';
import { couponsInUse, holdersAmong } from './repair-reads';
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
  private readonly passes = new RepeatingPass(
    REPAIR_EVERY_MS,
    async () => {
      const n = await this.repair();
      if (n) this.logger.warn(`finished ${n} give-backs whose caller died between their steps`);
    },
    (error) => this.logger.warn(`give-back repair failed: ${error.message}`),
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reservations: ReservationStore,
  ) {}

  onApplicationBootstrap(): void {
    this.passes.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.passes.stop();
  }

  /** One pass over the coupons still in use; returns how many give-backs it finished. */
  async repair(): Promise<number> {
    let finished = 0;
    for (const couponId of await couponsInUse(this.db)) {
      const expired = await this.reservations.expiredGiveBacks(couponId);
      if (!expired.size) continue;
      const held = await holdersAmong(this.db, couponId, [...expired.keys()]);
      for (const [userId, tombstones] of expired) {
        if (held.has(userId)) await this.reservations.endGiveBack(couponId, userId, tombstones);
        else await this.reservations.releaseUnlessPending(couponId, userId);
        finished++;
      }
    }
    return finished;
  }
}
