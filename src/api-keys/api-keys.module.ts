import { Module } from '@nestjs/common';
import { ApiKeyLookup } from './api-key-lookup';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ServiceKeyAccess } from './service-key-access';

/** Service keys: their routes, and the door the global guard sends a key's bearer to. */
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiKeyLookup, ServiceKeyAccess],
  exports: [ServiceKeyAccess],
})
export class ApiKeysModule {}
