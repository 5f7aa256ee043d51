import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { CouponPageResponse } from './coupons.responses';
import { KeyScope, RequireRole } from '../common/decorators/auth.decorators';
import { Page, PageQuery } from '../common/pagination';
import { IdParam } from '../common/decorators/id-param.decorator';
import { CouponView } from './coupon.view';
import { CouponsService } from './coupons.service';
import { CreateCouponDto } from './dto/create-coupon.dto';
import { UpdateCouponDto } from './dto/update-coupon.dto';
import { ReadRateLimit } from '../rate-limit/rate-limit.decorators';

@ApiTags('coupons')
@ApiBearerAuth()
@Controller('coupons')
export class CouponsController {
  constructor(private readonly coupons: CouponsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a coupon (admin, or a key with coupons:write)' })
  @RequireRole('admin')
  @KeyScope('coupons:write')
  @ApiCreatedResponse({ type: CouponView })
  create(@Body() dto: CreateCouponDto): Promise<CouponView> {
    return this.coupons.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List coupons' })
  @KeyScope('coupons:read')
  @ReadRateLimit()
  @ApiOkResponse({ type: CouponPageResponse, description: 'newest first' })
  @ApiErrors(ErrorCode.RATE_LIMITED)
  list(@Query() page: PageQuery): Promise<Page<CouponView>> {
    return this.coupons.list(page.cursor, page.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One coupon' })
  @KeyScope('coupons:read')
  @ReadRateLimit()
  @ApiOkResponse({ type: CouponView })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.RATE_LIMITED)
  get(@IdParam() id: number): Promise<CouponView> {
    return this.coupons.getView(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a coupon (admin, or a key with coupons:write)' })
  @RequireRole('admin')
  @KeyScope('coupons:write')
  @ApiOkResponse({ type: CouponView })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.QUANTITY_BELOW_ISSUED)
  update(@IdParam() id: number, @Body() dto: UpdateCouponDto): Promise<CouponView> {
    return this.coupons.update(id, dto);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a coupon nobody holds (admin, or a key with coupons:write)' })
  @HttpCode(204)
  @RequireRole('admin')
  @KeyScope('coupons:write')
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors(ErrorCode.COUPON_NOT_FOUND, ErrorCode.COUPON_HAS_ISSUES)
  async remove(@IdParam() id: number): Promise<void> {
    await this.coupons.remove(id);
  }
}
