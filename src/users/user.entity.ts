import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

import type { Role } from '../common/auth-user';

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** Null for a customer of the shop's identity provider (externalSubject), who never logs in here. */
  @Column({ type: 'text', unique: true, nullable: true })
  email: string | null;

  @Column({ name: 'password_hash', type: 'text', select: false, nullable: true })
  passwordHash: string | null;

  /** The `sub` of the shop's identity provider that names this user (AUTH_JWKS_URL), if any. */
  @Column({ name: 'external_subject', type: 'text', unique: true, nullable: true })
  externalSubject: string | null;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text', default: 'user' })
  role: Role;

  /** Only tokens signed with this generation are accepted (see the migration 1764700000000-token-generation). */
  @Column({ name: 'token_generation', type: 'integer', default: 0 })
  tokenGeneration: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
