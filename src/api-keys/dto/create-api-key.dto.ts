import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, Length, Matches } from 'class-validator';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../common/api-key-scopes';
import { PLAIN_TEXT, PLAIN_TEXT_MESSAGE } from '../../common/validation';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'checkout', maxLength: 100, description: 'what uses it, for people' })
  @IsString()
  @Length(1, 100)
  @Matches(PLAIN_TEXT, { message: PLAIN_TEXT_MESSAGE })
  name: string;

  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, example: ['issues:redeem'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes: ApiKeyScope[];
}
