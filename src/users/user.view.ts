import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Role } from '../common/auth-user';
import type { UserEntity } from './user.entity';

export class UserView {
  @ApiProperty({ example: 7 }) id: number;
  @ApiProperty({ example: 'jane@example.com' }) email: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Jane' }) name: string | null;
  @ApiProperty({ enum: ['user', 'admin'], example: 'user' }) role: Role;
}

export const toUserView = (u: UserEntity): UserView => ({ id: u.id, email: u.email, name: u.name, role: u.role });
