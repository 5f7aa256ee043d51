import { ApiProperty } from '@nestjs/swagger';
import type { Page } from '../common/pagination';
import { CouponView } from './coupon.view';

export class CouponPageResponse implements Page<CouponView> {
  @ApiProperty({ type: [CouponView] }) items: CouponView[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as ?cursor= for the next page; null on the last', example: '17' })
  nextCursor: string | null;
}
