import { Body, Controller, HttpCode, Ip, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentUser } from '../common/decorators/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { AuthRateLimit } from '../rate-limit/rate-limit.decorators';
import { AuthService } from './auth.service';
import { ChangePasswordDto } from './dto/change-password.dto';

/** What a logged-in user does to their own credentials; each ends every token issued before it. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller()
export class AccountController {
  constructor(private readonly auth: AuthService) {}

  @Post('auth/logout')
  @ApiOperation({ summary: 'Log out: refuse every token issued until now' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every token of this user issued until now is refused from now on' })
  logout(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logout(user);
  }

  @Patch('users/me/password')
  @ApiOperation({ summary: 'Change my password (every earlier token is refused)' })
  @HttpCode(204)
  @AuthRateLimit()
  @ApiNoContentResponse({ description: 'changed; every earlier token is refused from now on (log in again)' })
  @ApiErrors(ErrorCode.INVALID_CREDENTIALS, ErrorCode.RATE_LIMITED)
  changePassword(@CurrentUser() user: AuthUser, @Body() dto: ChangePasswordDto, @Ip() address: string): Promise<void> {
    return this.auth.changePassword(user, dto, address);
  }
}
