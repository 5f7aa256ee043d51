import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../common/decorators/auth.decorators';
import { UserView } from '../users/user.view';
import { AccessToken, AuthService } from './auth.service';
import { LoginDto } from './dto/login.dto';
import { SignupDto } from './dto/signup.dto';

@ApiTags('auth')
@Public()
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @ApiCreatedResponse({ type: UserView })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  signup(@Body() dto: SignupDto): Promise<UserView> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ description: '{accessToken, tokenType: "Bearer", expiresIn}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  login(@Body() dto: LoginDto): Promise<AccessToken> {
    return this.auth.login(dto);
  }
}
