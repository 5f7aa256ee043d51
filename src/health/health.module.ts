import { Module } from '@nestjs/common';
import { IssuanceModule } from '../issuance/issuance.module';
import { HealthController } from './health.controller';

@Module({ imports: [IssuanceModule], controllers: [HealthController] })
export class HealthModule {}
