import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsTimestamp, PLAIN_TEXT, PLAIN_TEXT_MESSAGE } from '../../common/validation';

/** Largest coupon accepted; far below the integer column's limit. */
export const MAX_TOTAL_QUANTITY = 100_000_000;
/** Longest validity accepted for an issue: ten years. */
export const MAX_VALID_DAYS = 3650;

export class CreateCouponDto {
  @ApiProperty({ example: 'Black Friday 10% off', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(PLAIN_TEXT, { message: PLAIN_TEXT_MESSAGE })
  name: string;

  @ApiProperty({ example: 100, minimum: 1, maximum: MAX_TOTAL_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_TOTAL_QUANTITY)
  totalQuantity: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-11-27T00:00:00Z',
    nullable: true,
    description: 'opens at; null or absent: open now',
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  startsAt?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', example: '2026-11-28T00:00:00Z', nullable: true, description: 'closes at; null or absent: never' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  endsAt?: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    example: 30,
    nullable: true,
    minimum: 1,
    maximum: MAX_VALID_DAYS,
    description: 'an issue can be redeemed this many days after it was issued; null or absent: no limit',
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_VALID_DAYS)
  validDays?: number | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-12-31T23:59:59Z',
    nullable: true,
    description: 'no issue can be redeemed after this; null or absent: no limit',
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsTimestamp()
  redeemUntil?: string | null;
}
