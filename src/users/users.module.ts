import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ExternalUsers } from './external-users';
import { UserLookup } from './user-lookup';
import { UserEntity } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity])],
  controllers: [UsersController],
  providers: [UsersService, UserLookup, ExternalUsers],
  exports: [UsersService, UserLookup, ExternalUsers],
})
export class UsersModule {}
