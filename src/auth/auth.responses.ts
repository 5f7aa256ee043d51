import { ApiProperty } from '@nestjs/swagger';
import type { AccessToken } from './auth.service';

// OpenAPI shapes of the auth answers; `implements` keeps them in step with what the code returns.

export class AccessTokenResponse implements AccessToken {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInJvbGUiOiJ1c2VyIn0.c2lnbmF0dXJl' }) accessToken: string;
  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ description: 'lifetime in seconds', example: 3600 }) expiresIn: number;
}

export class SessionResponse {
  @ApiProperty({ example: 42 }) userId: number;
  @ApiProperty({ enum: ['user', 'admin'], example: 'user' }) role: string;
}
