import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThan, Repository } from 'typeorm';
import { couponNotFound, DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { PgCode, pgCode } from '../database/postgres-errors';
import { CouponEntity } from './coupon.entity';
import { CouponViewCache } from './coupon-view.cache';
import { CouponView, toCouponView } from './coupon.view';
import { CreateCouponDto } from './dto/create-coupon.dto';
import { UpdateCouponDto } from './dto/update-coupon.dto';

/** What changed; `coupon` is the committed row, absent once deleted. */
export type CouponChange = { kind: 'created' | 'updated'; couponId: number; coupon: CouponEntity } | { kind: 'deleted'; couponId: number };

/** Reacts after a coupon changed (committed), e.g. to keep a cache or Redis stock in step. */
export type CouponChangeListener = (change: CouponChange) => Promise<void>;

const toDate = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));

function assertWindow(startsAt: Date | null, endsAt: Date | null): void {
  if (startsAt && endsAt && startsAt >= endsAt) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt must be after startsAt');
}

@Injectable()
export class CouponsService {
  private readonly listeners: CouponChangeListener[] = [];

  constructor(
    @InjectRepository(CouponEntity) private readonly coupons: Repository<CouponEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cache: CouponViewCache,
  ) {}

  onChange(listener: CouponChangeListener): void {
    this.listeners.push(listener);
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

  /** The public view, from the campaign cache when there is one. */
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
    const coupon = await this.dataSource.transaction('READ COMMITTED', async (em) => {
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
    await this.notify({ kind: 'updated', couponId: id, coupon });
    return toCouponView(coupon);
  }

  /** Only a coupon nobody holds can go; the foreign key refuses otherwise, even under a race. */
  async remove(id: number): Promise<void> {
    try {
      const { affected } = await this.coupons.delete({ id, issuedQuantity: 0 });
      if (affected) return void (await this.notify({ kind: 'deleted', couponId: id }));
    } catch (error) {
      if (pgCode(error) !== PgCode.FOREIGN_KEY_VIOLATION) throw error;
    }
    await this.get(id); // 404 when it does not exist
    throw new DomainError(ErrorCode.COUPON_HAS_ISSUES, `Coupon ${id} has issued coupons and cannot be deleted`);
  }

  private async notify(change: CouponChange): Promise<void> {
    await this.cache.invalidate(change.couponId);
    for (const listener of this.listeners) await listener(change);
  }
}
