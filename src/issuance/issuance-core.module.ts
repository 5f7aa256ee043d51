import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CouponIssueEntity } from './coupon-issue.entity';
import { IssueWriter } from './issue-writer';
import { IssueStore } from './issue.store';
import { ReservationStore } from './reservation/reservation.store';

/**
 * What both sides of issuance use: the API's strategies and the queue worker. Reading and writing
 * issues in PostgreSQL, and a coupon's reservation state in Redis.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CouponIssueEntity])],
  providers: [IssueStore, IssueWriter, ReservationStore],
  exports: [IssueStore, IssueWriter, ReservationStore],
})
export class IssuanceCoreModule {}
