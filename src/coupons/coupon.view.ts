import { ApiProperty } from '@nestjs/swagger';
import { COUPON_STATUSES, type CouponEntity, type CouponStatus } from './coupon.entity';

export class CouponView {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty() totalQuantity: number;
  @ApiProperty() issuedQuantity: number;
  @ApiProperty() remainingQuantity: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) startsAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) endsAt: string | null;
  @ApiProperty({ enum: COUPON_STATUSES }) status: CouponStatus;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
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
  createdAt: c.createdAt.toISOString(),
});

/** Why a coupon cannot be issued right now, or undefined when it is open. */
export function closedReason(c: Pick<CouponEntity, 'status' | 'startsAt' | 'endsAt'>, now = new Date()): string | undefined {
  if (c.status !== 'ACTIVE') return `the campaign is ${c.status.toLowerCase()}`;
  if (c.startsAt && now < c.startsAt) return `the campaign opens at ${c.startsAt.toISOString()}`;
  if (c.endsAt && now >= c.endsAt) return `the campaign closed at ${c.endsAt.toISOString()}`;
  return undefined;
}
