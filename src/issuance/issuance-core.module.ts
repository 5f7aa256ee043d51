import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CouponIssueEntity } from './coupon-issue.entity';
import { IssueCanceller } from './issue-canceller';
import { IssueWriter } from './issue-writer';
import { IssueStore } from './issue.store';

/**
 * What both sides of issuance use, the API's strategies and the queue worker: reading and writing
 * issues in PostgreSQL, and taking them back. (A coupon's reservation state in Redis is ReservationModule's.)
 */
@Module({
  imports: [TypeOrmModule.forFeature([CouponIssueEntity])],
  providers: [IssueStore, IssueWriter, IssueCanceller],
  exports: [IssueStore, IssueWriter, IssueCanceller],
})
export class IssuanceCoreModule {}
