import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { UserLookup } from '../users/user-lookup';
import { UsersService } from '../users/users.service';
import { toUserView, UserView } from '../users/user.view';
import { SignupDto } from './dto/signup.dto';
import { LoginDto } from './dto/login.dto';
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

  async login(dto: LoginDto): Promise<AccessToken> {
    await this.attempts.assertAllowed(dto.email);
    const user = await this.users.findByEmailWithHash(dto.email);
    // Verify even for an unknown email (against a decoy hash) so timing does not reveal accounts.
    const ok = await this.hasher.verify(user?.passwordHash, dto.password);
    if (!user || !ok) {
      await this.attempts.recordFailure(dto.email);
      throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'Email or password is wrong');
    }
    await this.attempts.recordSuccess(dto.email);
    this.lookup.remember(user.id, user.role); // so that a PostgreSQL outage right after does not lock them out
    return { accessToken: this.tokens.sign({ id: user.id, role: user.role }), tokenType: 'Bearer', expiresIn: this.tokens.expiresInSeconds };
  }
}
