import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { RequireRole } from '../common/decorators/auth.decorators';
import { IdParam } from '../common/decorators/id-param.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '../common/pagination';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { CreatedWebhookView, DeliveryAttemptView, DeliveryPageResponse, WebhookListResponse, WebhookView } from './webhook.view';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('webhooks')
@RequireRole('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Register an endpoint for events (admin); its signing secret is shown this once' })
  @ApiCreatedResponse({ type: CreatedWebhookView })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  create(@Body() dto: CreateWebhookDto): Promise<CreatedWebhookView> {
    return this.webhooks.create(dto.url, dto.events);
  }

  @Get()
  @ApiOperation({ summary: 'The webhook endpoints, newest first (admin)' })
  @ApiOkResponse({ type: WebhookListResponse })
  async list(): Promise<{ items: WebhookView[] }> {
    return { items: await this.webhooks.list() };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Remove an endpoint and its pending deliveries (admin)' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'removed' })
  @ApiErrors(ErrorCode.NOT_FOUND)
  async remove(@IdParam() id: number): Promise<void> {
    await this.webhooks.remove(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "The endpoint's delivery attempts and their statuses, newest first (admin)" })
  @ApiOkResponse({ type: DeliveryPageResponse })
  @ApiErrors(ErrorCode.NOT_FOUND)
  deliveries(@IdParam() id: number, @Query() page: PageQuery): Promise<Page<DeliveryAttemptView>> {
    return this.webhooks.attempts(id, page.cursor, page.limit ?? DEFAULT_PAGE_SIZE);
  }
}
