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
    const updates: Partial<UserEntity> = {};
    if (existing.role !== 'admin') updates.role = 'admin';
    if (!(await passwordMatches(existing.passwordHash))) updates.passwordHash = passwordHash;
    if (Object.keys(updates).length) await this.users.update({ id: existing.id }, updates);
  }
}
