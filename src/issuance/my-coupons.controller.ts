import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/decorators/auth.decorators';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '../common/pagination';
import { UserCouponPageResponse } from './issuance.responses';
import { IssueStore, UserCouponView } from './issue.store';
import { ISSUE_STATUSES, type IssueStatus } from './issue.view';
import { ReadRateLimit } from '../rate-limit/rate-limit.decorators';

export class MyCouponsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ISSUE_STATUSES, description: 'only issues in this status' })
  @IsOptional()
  @IsIn(ISSUE_STATUSES)
  status?: IssueStatus;
}

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me/coupons')
export class MyCouponsController {
  constructor(private readonly issues: IssueStore) {}

  @Get()
  @ApiOperation({ summary: 'My coupons' })
  @ReadRateLimit()
  @ApiOkResponse({ type: UserCouponPageResponse, description: 'newest first' })
  @ApiErrors(ErrorCode.RATE_LIMITED)
  list(@CurrentUser() user: AuthUser, @Query() query: MyCouponsQuery): Promise<Page<UserCouponView>> {
    return this.issues.pageForUser(user.id, query.cursor, query.limit ?? DEFAULT_PAGE_SIZE, query.status);
  }
}
