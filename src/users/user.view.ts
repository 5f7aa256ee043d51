import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Role, UserEntity } from './user.entity';

export class UserView {
  @ApiProperty() id: number;
  @ApiProperty() email: string;
  @ApiPropertyOptional({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ enum: ['user', 'admin'] }) role: Role;
}

export const toUserView = (u: UserEntity): UserView => ({ id: u.id, email: u.email, name: u.name, role: u.role });
