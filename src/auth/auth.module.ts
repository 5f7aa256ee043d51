import type { KeyObject } from 'node:crypto';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AdminBootstrap } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { LoginAttempts } from './login-attempts';
import { SessionController } from './session.controller';
import { PasswordHasher } from './password-hasher';
import { JWT_KEY, JwtKeyModule } from './jwt-key';
import { JwtStrategy } from './jwt.strategy';
import { ExternalTokens } from './external-tokens';
import { JWT_ALGORITHM, TokenService } from './token.service';

@Module({
  imports: [
    UsersModule,
    ApiKeysModule,
    PassportModule,
    JwtKeyModule,
    JwtModule.registerAsync({
      imports: [JwtKeyModule],
      inject: [JWT_KEY],
      useFactory: (key: KeyObject) => ({ secret: key, signOptions: { algorithm: JWT_ALGORITHM }, verifyOptions: { algorithms: [JWT_ALGORITHM] } }),
    }),
  ],
  controllers: [AuthController, SessionController, AccountController],
  providers: [
    AuthService,
    LoginAttempts,
    PasswordHasher,
    TokenService,
    JwtStrategy,
    ExternalTokens,
    AdminBootstrap,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenService],
})
export class AuthModule {}
