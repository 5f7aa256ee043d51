import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../common/decorators/auth.decorators';
import { SessionResponse } from './auth.responses';
import type { AuthUser } from '../common/auth-user';

/**
 * Who the presented token is for, and the role they hold now (the guard did the lookup): lets a
 * client check its token, and is the benchmark's ceiling (an authenticated request and nothing else).
 */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/session')
export class SessionController {
  @Get()
  @ApiOperation({ summary: 'The session the token is for' })
  @ApiOkResponse({ type: SessionResponse })
  session(@CurrentUser() user: AuthUser): { userId: number; role: string } {
    return { userId: user.id, role: user.role };
  }
}
