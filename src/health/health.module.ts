import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { IssuanceModule } from '../issuance/issuance.module';
import { HealthController } from './health.controller';

// terminus's own error log is off: the exception filter already logs each 503 once
@Module({ imports: [TerminusModule.forRoot({ logger: false }), IssuanceModule], controllers: [HealthController] })
export class HealthModule {}
