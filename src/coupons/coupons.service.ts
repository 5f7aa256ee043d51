import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThan, Repository } from 'typeorm';
import { couponNotFound, DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { PgCode, pgCode } from '../database/postgres-errors';
import { changeAlone } from './coupon-change-lock';
import { CouponEntity } from './coupon.entity';
import { CouponViewCache } from './coupon-view.cache';
import { CouponView, toCouponView } from './coupon.view';
import { CreateCouponDto } from './dto/create-coupon.dto';
import { UpdateCouponDto } from './dto/update-coupon.dto';

/** What changed; `coupon` is the committed row, absent once deleted. */
export type CouponChange = { kind: 'created' | 'updated'; couponId: number; coupon: CouponEntity } | { kind: 'deleted'; couponId: number };

/** Reacts after a coupon changed (committed), e.g. to keep a cache or Redis stock in step. */
export type CouponChangeListener = (change: CouponChange) => Promise<void>;

/**
 * Asked before a change that could take back what was promised outside PostgreSQL (requests
 * reserved or accepted in Redis and not yet written): it refuses with the domain error, or lets
 * the change go ahead (then PostgreSQL's own checks run, and the listeners follow the outcome).
 */
export interface CouponChangeGuard {
  /** Before totalQuantity is set: QUANTITY_BELOW_ISSUED when more are held or owed. */
  beforeTotal(couponId: number, total: number): Promise<void>;
  /** Before the delete: COUPON_HAS_ISSUES while anything is reserved or pending. */
  beforeDelete(couponId: number): Promise<void>;
}

const toDate = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));

function assertWindow(startsAt: Date | null, endsAt: Date | null): void {
  if (startsAt && endsAt && startsAt >= endsAt) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt must be after startsAt');
}

@Injectable()
export class CouponsService {
  private readonly listeners: CouponChangeListener[] = [];
  private guard?: CouponChangeGuard;

  constructor(
    @InjectRepository(CouponEntity) private readonly coupons: Repository<CouponEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cache: CouponViewCache,
  ) {}

  onChange(listener: CouponChangeListener): void {
    this.listeners.push(listener);
  }

  guardChanges(guard: CouponChangeGuard): void {
    this.guard = guard;
  }

  async create(dto: CreateCouponDto): Promise<CouponView> {
    const startsAt = toDate(dto.startsAt) ?? null;
    const endsAt = toDate(dto.endsAt) ?? null;
    assertWindow(startsAt, endsAt);
    const validity = { validDays: dto.validDays ?? null, redeemUntil: toDate(dto.redeemUntil) ?? null };
    const coupon = await this.coupons.save(this.coupons.create({ name: dto.name, totalQuantity: dto.totalQuantity, startsAt, endsAt, ...validity }));
    await this.notify({ kind: 'created', couponId: coupon.id, coupon });
    return toCouponView(coupon);
  }

  async list(cursor: string | undefined, limit = DEFAULT_PAGE_SIZE): Promise<Page<CouponView>> {
    const rows = await this.coupons.find({
      where: cursor ? { id: LessThan(Number(cursor)) } : {},
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (c) => c.id, toCouponView);
  }

  /** The public view, from the coupon cache when there is one. */
  async getView(id: number): Promise<CouponView> {
    const cached = await this.cache.get(id);
    if (cached) return cached;
    const view = toCouponView(await this.get(id));
    await this.cache.set(view);
    return view;
  }

  async get(id: number): Promise<CouponEntity> {
    const coupon = await this.coupons.findOneBy({ id });
    if (!coupon) throw couponNotFound(id);
    return coupon;
  }

  /**
   * Row-locked read-modify-write, so a concurrent issue cannot slip between the check of
   * `totalQuantity >= issuedQuantity` and the write (the CHECK constraint backs it anyway).
   */
  async update(id: number, dto: UpdateCouponDto): Promise<CouponView> {
    const coupon = await this.alone(id, async () => {
      if (dto.totalQuantity !== undefined) await this.guard?.beforeTotal(id, dto.totalQuantity);
      const updated = await this.afterGuard(id, () => this.updateRow(id, dto));
      await this.notify({ kind: 'updated', couponId: id, coupon: updated });
      return updated;
    });
    return toCouponView(coupon);
  }

  private updateRow(id: number, dto: UpdateCouponDto): Promise<CouponEntity> {
    return this.dataSource.transaction('READ COMMITTED', async (em) => {
      const current = await em.findOne(CouponEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw couponNotFound(id);
      const next = em.merge(CouponEntity, current, {
        name: dto.name,
        totalQuantity: dto.totalQuantity,
        status: dto.status,
        startsAt: toDate(dto.startsAt),
        endsAt: toDate(dto.endsAt),
        validDays: dto.validDays,
        redeemUntil: toDate(dto.redeemUntil),
      });
      assertWindow(next.startsAt, next.endsAt);
      if (next.totalQuantity < current.issuedQuantity) {
        throw new DomainError(ErrorCode.QUANTITY_BELOW_ISSUED, `totalQuantity ${next.totalQuantity} is below the ${current.issuedQuantity} already issued`);
      }
      return em.save(next);
    });
  }

  /**
   * Only a coupon nobody holds, and nobody is owed, can go: the guard refuses while requests are
   * reserved or pending, and the foreign key while rows exist, even under a race.
   */
  async remove(id: number): Promise<void> {
    await this.alone(id, async () => {
      await this.guard?.beforeDelete(id);
      const deleted = await this.afterGuard(id, async () => {
        try {
          return ((await this.coupons.delete({ id, issuedQuantity: 0 })).affected ?? 0) > 0;
        } catch (error) {
          if (pgCode(error) !== PgCode.FOREIGN_KEY_VIOLATION) throw error;
          return false;
        }
      });
      if (deleted) return void (await this.notify({ kind: 'deleted', couponId: id }));
      await this.resync(id);
      await this.get(id); // 404 when it does not exist
      throw new DomainError(ErrorCode.COUPON_HAS_ISSUES, `Coupon ${id} has issued coupons and cannot be deleted`);
    });
  }

  /**
   * Where a guard keeps Redis in step (redis, queue), one change of a coupon at a time, guard to
   * listeners (coupon-change-lock.ts); PostgreSQL's row lock alone serialises them otherwise.
   */
  private alone<T>(id: number, change: () => Promise<T>): Promise<T> {
    return this.guard ? changeAlone(this.dataSource, id, change) : change();
  }

  /** A change the guard let through: if PostgreSQL then refuses or fails it, the listeners follow the row as it is. */
  private async afterGuard<T>(id: number, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      if (this.guard) await this.resync(id);
      throw error;
    }
  }

  /** The listeners follow the committed row (the guard may have capped or closed it in Redis first). */
  private async resync(id: number): Promise<void> {
    if (!this.guard) return;
    const coupon = await this.coupons.findOneBy({ id }).catch(() => undefined);
    if (coupon) await this.notify({ kind: 'updated', couponId: id, coupon }).catch(() => undefined);
  }

  private async notify(change: CouponChange): Promise<void> {
    await this.cache.invalidate(change.couponId);
    for (const listener of this.listeners) await listener(change);
  }
}
