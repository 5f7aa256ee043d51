import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { KeyScope, RequireRole } from '../common/decorators/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { EventPageQuery } from './dto/event-page.query';
import { EventFeed } from './event-feed';
import { EventPageResponse, toEventView } from './event.view';

const DEFAULT_EVENTS_PER_PAGE = 100;

@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  constructor(private readonly feed: EventFeed) {}

  @Get()
  @ApiOperation({ summary: 'The events after a point of the feed (admin, or a key with events:read); follow nextAfter from 0 to see each once' })
  @RequireRole('admin')
  @KeyScope('events:read')
  @ApiOkResponse({ type: EventPageResponse })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  async list(@Query() query: EventPageQuery): Promise<EventPageResponse> {
    const after = query.after ?? 0;
    const rows = await this.feed.read(after, query.limit ?? DEFAULT_EVENTS_PER_PAGE);
    const items = rows.map(toEventView);
    return { items, nextAfter: items.length ? items[items.length - 1].id : after };
  }
}
