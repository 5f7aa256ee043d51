import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/decorators/auth.decorators';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '../common/pagination';
import { UserCouponPageResponse } from './issuance.responses';
import { IssueStore, UserCouponView } from './issue.store';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me/coupons')
export class MyCouponsController {
  constructor(private readonly issues: IssueStore) {}

  @Get()
  @ApiOkResponse({ type: UserCouponPageResponse, description: 'newest first' })
  list(@CurrentUser() user: AuthUser, @Query() page: PageQuery): Promise<Page<UserCouponView>> {
    return this.issues.pageForUser(user.id, page.cursor, page.limit ?? DEFAULT_PAGE_SIZE);
  }
}
