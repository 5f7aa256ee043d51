import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuthConfig } from '../config/auth.config';
import { UsersService } from '../users/users.service';
import { PasswordHasher } from './password-hasher';

/** With ADMIN_EMAIL and ADMIN_PASSWORD set, that admin exists once start-up is done. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly config: AuthConfig,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) return;
    const hash = await this.hasher.hash(admin.password);
    await this.users.ensureAdmin(admin.email, hash, (existing) => this.hasher.verify(existing, admin.password));
    this.logger.log(`admin account ${admin.email} is ready`);
  }
}
