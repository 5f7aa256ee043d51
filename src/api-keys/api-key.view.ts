import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_SCOPES, type ApiKeyScope } from '../common/api-key-scopes';

export class ApiKeyView {
  @ApiProperty({ example: 3 }) id: number;
  @ApiProperty({ example: 'checkout' }) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, example: ['issues:redeem'] }) scopes: ApiKeyScope[];
  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) lastUsedAt: string | null;
}

/** The answer to POST /api-keys: the one time the secret is shown. */
export class CreatedApiKeyView {
  @ApiProperty({ example: 3 }) id: number;
  @ApiProperty({ example: 'checkout' }) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, example: ['issues:redeem'] }) scopes: ApiKeyScope[];
  @ApiProperty({ example: 'csk_3q2-7wEvWj0n3bqQ3fvYr0pI2c2v0bq3b1Q9x4k5yZk', description: 'the secret: shown this once, stored only as a digest' })
  key: string;
  @ApiProperty({ format: 'date-time', example: '2026-12-01T09:30:00.000Z' }) createdAt: string;
}

export class ApiKeyPageResponse {
  @ApiProperty({ type: ApiKeyView, isArray: true }) items: ApiKeyView[];
}
