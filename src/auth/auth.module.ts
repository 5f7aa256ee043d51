import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { UsersModule } from '../users/users.module';
import { AdminBootstrap } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { LoginAttempts } from './login-attempts';
import { SessionController } from './session.controller';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';

@Module({
  imports: [UsersModule],
  controllers: [AuthController, SessionController],
  providers: [AuthService, LoginAttempts, PasswordHasher, TokenService, AdminBootstrap, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenService],
})
export class AuthModule {}
