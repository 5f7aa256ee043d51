import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { EVENT_TYPES, type EventType } from '../../events/event.view';

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://crm.example.com/hooks/coupons', maxLength: 2000, description: 'http or https' })
  @IsString()
  @MaxLength(2000)
  url: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['issue.issued', 'issue.redeemed'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true })
  events: EventType[];
}
