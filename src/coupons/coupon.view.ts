import { ApiProperty } from '@nestjs/swagger';
import { COUPON_STATUSES, type CouponEntity, type CouponStatus } from './coupon.entity';

export class CouponView {
  @ApiProperty({ example: 42 }) id: number;
  @ApiProperty({ example: 'Black Friday 10% off' }) name: string;
  @ApiProperty({ example: 100 }) totalQuantity: number;
  @ApiProperty({ example: 37 }) issuedQuantity: number;
  @ApiProperty({ example: 63 }) remainingQuantity: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: '2026-11-27T00:00:00.000Z' }) startsAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) endsAt: string | null;
  @ApiProperty({ enum: COUPON_STATUSES, example: 'ACTIVE' }) status: CouponStatus;
  @ApiProperty({ type: Number, nullable: true, example: 30, description: 'days an issue can be redeemed after it was issued' }) validDays: number | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null, description: 'no issue can be redeemed after this' })
  redeemUntil: string | null;
  @ApiProperty({ format: 'date-time', example: '2026-11-20T09:30:00.000Z' }) createdAt: string;
}

export const toCouponView = (c: CouponEntity): CouponView => ({
  id: c.id,
  name: c.name,
  totalQuantity: c.totalQuantity,
  issuedQuantity: c.issuedQuantity,
  remainingQuantity: Math.max(0, c.totalQuantity - c.issuedQuantity),
  startsAt: c.startsAt?.toISOString() ?? null,
  endsAt: c.endsAt?.toISOString() ?? null,
  status: c.status,
  validDays: c.validDays ?? null,
  redeemUntil: c.redeemUntil?.toISOString() ?? null,
  createdAt: c.createdAt.toISOString(),
});
