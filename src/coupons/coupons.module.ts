import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CouponEntity } from './coupon.entity';
import { REDIS, type RedisClient } from '../redis/redis.module';
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
      useFactory: (redis?: RedisClient) => (redis ? new RedisCouponViewCache(redis) : new NoCouponViewCache()),
    },
  ],
  exports: [CouponsService],
})
export class CouponsModule {}
