import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../common/auth-user';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { UserLookup } from '../users/user-lookup';
import { UsersService } from '../users/users.service';
import { toUserView, UserView } from '../users/user.view';
import { SignupDto } from './dto/signup.dto';
import { LoginDto } from './dto/login.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginAttempts } from './login-attempts';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  /** Lifetime in seconds. */
  expiresIn: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly attempts: LoginAttempts,
    private readonly lookup: UserLookup,
  ) {}

  async signup(dto: SignupDto): Promise<UserView> {
    const user = await this.users.create({ email: dto.email, passwordHash: await this.hasher.hash(dto.password), name: dto.name });
    return toUserView(user);
  }

  /** `address`: the client's, as TRUST_PROXY decides it; the slow-down counts per account and address. */
  async login(dto: LoginDto, address: string): Promise<AccessToken> {
    const user = await this.attempts.weigh(dto.email, address, async () => {
      const found = await this.users.findByEmailWithHash(dto.email);
      // Verify even for an unknown email (against a decoy hash) so timing does not reveal accounts.
      const right = await this.hasher.verify(found?.passwordHash, dto.password);
      return right && found ? found : undefined;
    });
    if (!user) throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'Email or password is wrong');
    const tokenGeneration = user.tokenGeneration;
    this.lookup.remember(user.id, { role: user.role, tokenGeneration }); // so that a PostgreSQL outage right after does not lock them out
    return {
      accessToken: this.tokens.sign({ id: user.id, role: user.role }, tokenGeneration),
      tokenType: 'Bearer',
      expiresIn: this.tokens.expiresInSeconds,
    };
  }

  /** Every token of the caller issued until now is refused from now on (the one presented included). */
  async logout(caller: AuthUser): Promise<void> {
    const generation = await this.users.revokeTokens(caller.id);
    if (generation !== null) this.lookup.remember(caller.id, { role: caller.role, tokenGeneration: generation });
  }

  /**
   * A new password, given the current one; every earlier token is refused from then on (a stolen
   * token cannot outlive the password change that answers the theft). The current password is a
   * guess like a log-in's: admitted by the same slow-down, per account and address, before argon2
   * weighs it, and its failures count against the same hourly budget (a stolen token is no oracle).
   */
  async changePassword(caller: AuthUser, dto: ChangePasswordDto, address: string): Promise<void> {
    const user = await this.users.findByIdWithHash(caller.id);
    if (!user) throw new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this token no longer exists');
    // a customer of the shop's identity provider has no password here: theirs is the provider's
    if (!user.email) throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'This account signs in through the shop; it has no password here');
    const right = await this.attempts.weigh(user.email, address, async () =>
      (await this.hasher.verify(user.passwordHash, dto.currentPassword)) ? true : undefined,
    );
    if (!right) throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'The current password is wrong');
    const generation = await this.users.revokeTokens(caller.id, await this.hasher.hash(dto.newPassword));
    if (generation !== null) this.lookup.remember(caller.id, { role: user.role, tokenGeneration: generation });
  }
}
