import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Role } from '../common/auth-user';
import type { UserEntity } from './user.entity';

export class UserView {
  @ApiProperty({ example: 7 }) id: number;
  /** Null for a customer of the shop's identity provider. */
  @ApiProperty({ type: String, nullable: true, example: 'jane@example.com' }) email: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Jane' }) name: string | null;
  @ApiProperty({ enum: ['user', 'admin'], example: 'user' }) role: Role;
}

export const toUserView = (u: UserEntity): UserView => ({ id: u.id, email: u.email, name: u.name, role: u.role });
