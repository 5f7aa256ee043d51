import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { RepeatingPass } from '../../common/repeating-pass';
import { PendingRequests } from './pending-requests';
import { couponsInUse, holdersAmong } from './repair-reads';
import { ReservationStore } from './reservation.store';

const REPAIR_EVERY_MS = 2000;

/**
 * `redis`: a reservation whose PostgreSQL write ended with its outcome unknown (the connection
 * lost mid-commit, PostgreSQL restarted) is recorded as pending (PendingRequests.recordUnsettled).
 * Once no statement of it can still be running (`settledAfterMs`: twice the statement timeout),
 * PostgreSQL's truth decides it: the user's row is there, and the reservation stays theirs (only
 * the record goes); or it is not, and the unit goes back to stock. Without this, the unit stayed
 * held back until an admin ran reconcile, and a coupon could end with fewer issued than its
 * total. Each act is a compare-and-set on the record as read, so a retry that made the write good
 * meanwhile (and settled it) is left alone. Doing the same repair twice, on two processes, is harmless.
 */
export class UnsettledWriteRepair {
  private readonly logger = new Logger(UnsettledWriteRepair.name);
  private readonly passes = new RepeatingPass(
    REPAIR_EVERY_MS,
    async () => {
      const n = await this.repair();
      if (n) this.logger.warn(`decided ${n} reservations whose write had an unknown outcome`);
    },
    (error) => this.logger.warn(`repair of unsettled writes failed: ${error.message}`),
  );

  constructor(
    private readonly db: DataSource,
    private readonly reservations: ReservationStore,
    private readonly pending: PendingRequests,
    private readonly settledAfterMs: number,
  ) {}

  start(): void {
    this.passes.start();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }

  /** One pass over the coupons in use; returns how many reservations it decided. */
  async repair(now = Date.now()): Promise<number> {
    let decided = 0;
    for (const couponId of await couponsInUse(this.db)) {
      const due = [...(await this.pending.all(couponId))].filter(([, request]) => request.acceptedAt <= now - this.settledAfterMs);
      if (!due.length) continue;
      const held = await holdersAmong(
        this.db,
        couponId,
        due.map(([userId]) => userId),
      );
      for (const [userId, { mark }] of due) {
        if (held.has(userId))
          await this.reservations.restoreHolder(couponId, userId); // written: theirs, settled
        else await this.reservations.releaseIfStill(couponId, userId, mark, ''); // never written: back to stock
        decided++;
      }
    }
    return decided;
  }
}
