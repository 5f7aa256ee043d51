import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsTimestamp, PLAIN_TEXT, PLAIN_TEXT_MESSAGE } from '../../common/validation';
import { COUPON_STATUSES, type CouponStatus } from '../coupon.entity';
import { MAX_TOTAL_QUANTITY, MAX_VALID_DAYS } from './create-coupon.dto';

export class UpdateCouponDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(PLAIN_TEXT, { message: PLAIN_TEXT_MESSAGE })
  name?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TOTAL_QUANTITY, description: 'never below the issued quantity (409 QUANTITY_BELOW_ISSUED)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOTAL_QUANTITY)
  totalQuantity?: number;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  startsAt?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  endsAt?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: MAX_VALID_DAYS, description: 'applies to issues already made too' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_VALID_DAYS)
  validDays?: number | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'applies to issues already made too' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  redeemUntil?: string | null;

  @ApiPropertyOptional({ enum: COUPON_STATUSES })
  @IsOptional()
  @IsIn(COUPON_STATUSES)
  status?: CouponStatus;
}
