import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { RequireRole } from '../common/decorators/auth.decorators';
import { IdParam } from '../common/decorators/id-param.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { ApiKeyPageResponse, ApiKeyView, CreatedApiKeyView } from './api-key.view';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

/** Service keys for the shop's back ends; only an admin (never a key) makes, lists and deletes them. */
@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Make a service key with scopes (admin); its secret is shown this once' })
  @RequireRole('admin')
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  create(@Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    return this.keys.create(dto.name, dto.scopes);
  }

  @Get()
  @ApiOperation({ summary: 'The service keys, newest first, without their secrets (admin)' })
  @RequireRole('admin')
  @ApiOkResponse({ type: ApiKeyPageResponse })
  async list(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a service key: refused by every instance from then on (admin)' })
  @HttpCode(204)
  @RequireRole('admin')
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors(ErrorCode.NOT_FOUND)
  async remove(@IdParam() id: number): Promise<void> {
    await this.keys.remove(id);
  }
}
