import { Body, Controller, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { Public } from '../common/decorators/auth.decorators';
import { AuthRateLimit, SignupRateLimit } from '../rate-limit/rate-limit.decorators';
import { UserView } from '../users/user.view';
import { AccessTokenResponse } from './auth.responses';
import { AccessToken, AuthService } from './auth.service';
import { LoginDto } from './dto/login.dto';
import { SignupDto } from './dto/signup.dto';

@ApiTags('auth')
@Public()
@ApiErrors(ErrorCode.RATE_LIMITED)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @ApiOperation({ summary: 'Sign up' })
  @SignupRateLimit()
  @ApiCreatedResponse({ type: UserView })
  @ApiErrors(ErrorCode.EMAIL_TAKEN)
  signup(@Body() dto: SignupDto): Promise<UserView> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @ApiOperation({ summary: 'Log in: get an access token' })
  @AuthRateLimit()
  @HttpCode(200)
  @ApiOkResponse({ type: AccessTokenResponse })
  @ApiErrors(ErrorCode.INVALID_CREDENTIALS)
  login(@Body() dto: LoginDto, @Ip() address: string): Promise<AccessToken> {
    return this.auth.login(dto, address);
  }
}
