import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class RedeemDto {
  @ApiProperty({ example: 'Q2xq3vH8mX1bT0aZp9Lk', description: 'the code of the issue' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'code must be a coupon code' })
  code: string;

  @ApiPropertyOptional({
    example: 'order-2026-0001',
    maxLength: 200,
    description: 'the order it pays for; repeating a redemption with the same orderRef answers 200 again',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'orderRef must be printable ASCII without spaces' })
  orderRef?: string;
}
