import { Body, Controller, Delete, Get, HttpCode, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser, KeyScope, RequireRole } from '../common/decorators/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '../common/pagination';
import { IdParam } from '../common/decorators/id-param.decorator';
import { IdempotencyKey } from './idempotency-key.decorator';
import { IssueRequestDto } from './dto/issue-request.dto';
import { IssuanceStatsResponse, IssueHistoryPageResponse, IssueStateResponse, PendingResponse } from './issuance.responses';
import { HolderActionRateLimit, ReadRateLimit } from '../rate-limit/rate-limit.decorators';
import { IssuanceService, IssuanceStats } from './issuance.service';
import { SoldOutGuard } from './sold-out/sold-out.guard';
import type { CouponIssueHistoryView } from './issue.store';
import { IssueView } from './issue.view';
import type { IssueOutcome, IssueState } from './strategies/issuance.strategy';

@ApiTags('issuance')
@ApiBearerAuth()
@Controller('coupons/:id')
export class IssuanceController {
  constructor(private readonly issuance: IssuanceService) {}

  @Post('issue')
  @ApiOperation({ summary: 'Ask for a coupon (201 issued, or 202 accepted with queue)' })
  // RATE_LIMIT_ISSUE_PER_SECOND is counted by the strategy, per user and coupon, in the same step
  // that decides (reserve.lua; pessimistic: in the process), not by a guard and a round trip of its own
  @UseGuards(SoldOutGuard)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', minLength: 1, maxLength: 255 },
    description: 'repeat it on a retry to get the first answer again (kept 24 hours per user and coupon)',
  })
  @ApiBody({ type: IssueRequestDto, required: false, description: "none (or an empty object): the coupon goes to the token's user" })
  @ApiCreatedResponse({ type: IssueView, description: 'issued (pessimistic, redis)' })
  @ApiAcceptedResponse({ type: PendingResponse, description: 'accepted (queue); poll GET /coupons/:id/issue' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.SOLD_OUT, ErrorCode.ALREADY_ISSUED, ErrorCode.NOT_OPEN, ErrorCode.RATE_LIMITED)
  async issue(
    @IdParam() couponId: number,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() _noFields: IssueRequestDto,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<IssueView | { status: 'PENDING'; couponId: number }> {
    const outcome: IssueOutcome = await this.issuance.issue(couponId, user.id, idempotencyKey);
    if (outcome.status === 'PENDING') {
      void reply.status(202);
      return outcome;
    }
    void reply.status(201);
    return outcome.issue;
  }

  @Get('issue')
  @ApiOperation({ summary: 'My request for this coupon: pending, issued or rejected' })
  @ReadRateLimit()
  @ApiOkResponse({ type: IssueStateResponse })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.NOT_REQUESTED, ErrorCode.RATE_LIMITED)
  state(@IdParam() couponId: number, @CurrentUser() user: AuthUser): Promise<IssueState> {
    return this.issuance.state(couponId, user.id);
  }

  @Delete('issue')
  @ApiOperation({ summary: 'Give my coupon back, or withdraw my pending request' })
  @HttpCode(204)
  @HolderActionRateLimit()
  @ApiNoContentResponse({ description: 'given back (or, with queue, the pending request withdrawn): the unit is in stock again' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.NOT_REQUESTED, ErrorCode.ALREADY_REDEEMED, ErrorCode.RATE_LIMITED)
  giveBack(@IdParam() couponId: number, @CurrentUser() user: AuthUser): Promise<void> {
    return this.issuance.giveBack(couponId, user.id);
  }

  @Delete('issues/:issueId')
  @ApiOperation({ summary: 'Revoke an issue (admin, or a key with coupons:write)' })
  @HttpCode(204)
  @RequireRole('admin')
  @KeyScope('coupons:write')
  @ApiNoContentResponse({ description: 'revoked: the unit is in stock again' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.ISSUE_NOT_FOUND, ErrorCode.ALREADY_REDEEMED)
  revoke(@IdParam() couponId: number, @IdParam('issueId') issueId: number): Promise<void> {
    return this.issuance.revoke(couponId, issueId);
  }

  @Get('issues')
  @ApiOperation({ summary: "The coupon's issue history (admin, or a key with coupons:read)" })
  @RequireRole('admin')
  @KeyScope('coupons:read')
  @ApiOkResponse({ type: IssueHistoryPageResponse, description: 'newest first' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND)
  async history(@IdParam() couponId: number, @Query() page: PageQuery): Promise<Page<CouponIssueHistoryView>> {
    return this.issuance.history(couponId, page.cursor, page.limit ?? DEFAULT_PAGE_SIZE);
  }

  @Get('stats')
  @ApiOperation({ summary: "The coupon's counts (admin, or a key with coupons:read)" })
  @RequireRole('admin')
  @KeyScope('coupons:read')
  @ApiOkResponse({ type: IssuanceStatsResponse })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND)
  stats(@IdParam() couponId: number): Promise<IssuanceStats> {
    return this.issuance.stats(couponId);
  }

  @Post('reconcile')
  @ApiOperation({ summary: "Rebuild the coupon's Redis state from PostgreSQL (admin)" })
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOkResponse({ type: IssuanceStatsResponse, description: 'the stats after rebuilding state kept outside PostgreSQL' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND)
  reconcile(@IdParam() couponId: number): Promise<IssuanceStats> {
    return this.issuance.reconcile(couponId);
  }
}
