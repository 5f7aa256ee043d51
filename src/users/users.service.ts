import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { isUniqueViolation } from '../database/postgres-errors';
import type { Role } from '../common/auth-user';
import { UserEntity } from './user.entity';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  async create(input: { email: string; passwordHash: string; name?: string | null; role?: Role }): Promise<UserEntity> {
    try {
      return await this.users.save(this.users.create({ ...input, name: input.name ?? null, role: input.role ?? 'user' }));
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) throw new DomainError(ErrorCode.EMAIL_TAKEN, 'This email is already registered');
      throw error;
    }
  }

  findById(id: number): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  /** With the password hash, which is otherwise never selected. */
  findByEmailWithHash(email: string): Promise<UserEntity | null> {
    return this.users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.email = :email', { email }).getOne();
  }

  findByIdWithHash(id: number): Promise<UserEntity | null> {
    return this.users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.id = :id', { id }).getOne();
  }

  /**
   * Refuses every token of the user issued until now, by moving them to the next token generation
   * (and, when given, sets a new password in the same statement). Returns the new generation, or
   * null when the user no longer exists.
   */
  async revokeTokens(id: number, newPasswordHash?: string): Promise<number | null> {
    const [rows] = await this.users.query(
      `UPDATE users SET token_generation = token_generation + 1, password_hash = coalesce($2, password_hash) WHERE id = $1 RETURNING token_generation`,
      [id, newPasswordHash ?? null],
    );
    return rows?.[0] ? Number(rows[0].token_generation) : null;
  }

  /**
   * Makes sure this admin exists with this password; safe when several instances start at once
   * (the insert does nothing on conflict, then the row is brought in line).
   */
  async ensureAdmin(email: string, passwordHash: string, passwordMatches: (hash: string) => Promise<boolean>): Promise<void> {
    await this.users.query(`INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, 'Administrator', 'admin') ON CONFLICT (email) DO NOTHING`, [
      email,
      passwordHash,
    ]);
    const existing = await this.findByEmailWithHash(email);
    if (!existing) return;
    // someone registered this address before the admin was configured: promoting them would hand
    // the admin role (and the account's password) to whoever that was
    if (existing.role !== 'admin') throw new AdminTakeoverRefused(email);
    if (!existing.passwordHash || !(await passwordMatches(existing.passwordHash))) await this.users.update({ id: existing.id }, { passwordHash });
  }
}

/** Start-up stops: ADMIN_EMAIL names an ordinary account. */
export class AdminTakeoverRefused extends Error {
  constructor(email: string) {
    super(
      `ADMIN_EMAIL ${email} belongs to an account that is not an admin (signed up by someone); refusing to make it one. Choose another ADMIN_EMAIL, or promote that account yourself if it is yours`,
    );
  }
}
