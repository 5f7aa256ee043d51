import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentUser, KeyScope } from '../common/decorators/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { HolderActionRateLimit } from '../rate-limit/rate-limit.decorators';
import { RedeemDto } from './dto/redeem.dto';
import { IssueView } from './issue.view';
import { RedemptionService } from './redemption.service';

@ApiTags('issues')
@ApiBearerAuth()
@Controller('issues')
export class RedemptionController {
  constructor(private readonly redemptions: RedemptionService) {}

  @Post('redeem')
  @ApiOperation({ summary: 'Redeem a coupon by its code, once (its holder, an admin, or a key with issues:redeem)' })
  @KeyScope('issues:redeem')
  @HttpCode(200)
  @HolderActionRateLimit()
  @ApiOkResponse({ type: IssueView, description: 'redeemed now, or earlier with the same orderRef: status REDEEMED' })
  @ApiErrors(ErrorCode.ISSUE_NOT_FOUND, ErrorCode.ALREADY_REDEEMED, ErrorCode.ISSUE_EXPIRED, ErrorCode.RATE_LIMITED)
  redeem(@CurrentUser() user: AuthUser, @Body() body: RedeemDto): Promise<IssueView> {
    return this.redemptions.redeem(user, body.code, body.orderRef);
  }
}
