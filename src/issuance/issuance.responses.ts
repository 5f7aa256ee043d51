import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Page } from '../common/pagination';
import type { CouponIssueHistoryView, UserCouponView } from './issue.store';
import { ISSUE_STATUSES, type IssueStatus } from './issue.view';
import { IssueView } from './issue.view';

// OpenAPI shapes of the issuance answers; `implements` keeps them in step with what the code returns.

export class PendingResponse {
  @ApiProperty({ enum: ['PENDING'], example: 'PENDING' }) status: 'PENDING';
  @ApiProperty({ example: 42 }) couponId: number;
}

export class IssueStateResponse {
  @ApiProperty({ enum: ['ISSUED', 'PENDING', 'REJECTED'], example: 'ISSUED' }) status: 'ISSUED' | 'PENDING' | 'REJECTED';
  @ApiPropertyOptional({ type: IssueView, description: 'when ISSUED' }) issue?: IssueView;
  @ApiPropertyOptional({ description: 'when REJECTED: the error code it ended with', example: 'SOLD_OUT' }) reason?: string;
}

/** IssuanceStats, whose strategy figures are open-ended (an index type), described field by field. */
export class IssuanceStatsResponse {
  @ApiProperty({ example: 100 }) totalQuantity: number;
  @ApiProperty({ description: 'the counter on the coupon', example: 100 }) issuedQuantity: number;
  @ApiProperty({ description: 'rows in coupon_issues; equals issuedQuantity at every commit', example: 100 }) issuedRows: number;
  @ApiProperty({ example: 0 }) remainingQuantity: number;
  @ApiProperty({ description: 'issues held now that were redeemed', example: 12 }) redeemedQuantity: number;
  @ApiProperty({ description: 'issues given back or revoked (their units went back to stock)', example: 0 }) cancelledQuantity: number;
  @ApiProperty({ description: 'accepted but not yet written to PostgreSQL', example: 0 }) pending: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'redis, queue: units Redis counts as taken (null: not loaded yet)', example: 100 })
  redisReserved?: number | null;
  @ApiPropertyOptional({ description: 'queue: jobs not finished yet', example: 0 }) queueDepth?: number;
}

export class IssueHistoryItem implements CouponIssueHistoryView {
  @ApiProperty({ example: 9001 }) issueId: number;
  @ApiProperty({ example: 42 }) userId: number;
  @ApiProperty({ example: 'Q2xq3vH8mX1bT0aZp9Lk' }) code: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-27T00:00:00.123Z' }) issuedAt: string;
  @ApiProperty({ enum: ISSUE_STATUSES, example: 'ISSUED' }) status: IssueStatus;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) redeemedAt: string | null;
}

export class IssueHistoryPageResponse implements Page<CouponIssueHistoryView> {
  @ApiProperty({ type: [IssueHistoryItem] }) items: IssueHistoryItem[];
  @ApiProperty({ type: String, nullable: true, example: null }) nextCursor: string | null;
}

export class UserCouponItem implements UserCouponView {
  @ApiProperty({ example: 9001 }) issueId: number;
  @ApiProperty({ example: 42 }) couponId: number;
  @ApiProperty({ example: 'Black Friday 10% off' }) couponName: string;
  @ApiProperty({ example: 'Q2xq3vH8mX1bT0aZp9Lk' }) code: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-27T00:00:00.123Z' }) issuedAt: string;
  @ApiProperty({ enum: ISSUE_STATUSES, example: 'ISSUED' }) status: IssueStatus;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: '2026-12-27T00:00:00.123Z' }) expiresAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) redeemedAt: string | null;
}

export class UserCouponPageResponse implements Page<UserCouponView> {
  @ApiProperty({ type: [UserCouponItem] }) items: UserCouponItem[];
  @ApiProperty({ type: String, nullable: true, example: null }) nextCursor: string | null;
}
