import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CouponEntity } from './coupon.entity';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { CouponViewCache, NoCouponViewCache, RedisCouponViewCache } from './coupon-view.cache';
import { CouponsController } from './coupons.controller';
import { CouponsService } from './coupons.service';

@Module({
  imports: [TypeOrmModule.forFeature([CouponEntity])],
  controllers: [CouponsController],
  providers: [
    CouponsService,
    {
      provide: CouponViewCache,
      inject: [{ token: REDIS, optional: true }],
      useFactory: (redis?: Redis) => (redis ? new RedisCouponViewCache(redis) : new NoCouponViewCache()),
    },
  ],
  exports: [CouponsService],
})
export class CouponsModule {}
