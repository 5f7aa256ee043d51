import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { AuthConfig } from './auth.config';
import { DatabaseConfig } from './database.config';
import { HttpConfig } from './http.config';
import { IssuanceConfig } from './issuance.config';
import { RateLimitConfig } from './rate-limit.config';
import { WebhookConfig } from './webhook.config';

/**
 * Provides the configuration validated at start-up: each area's slice on its own (AuthConfig,
 * DatabaseConfig, HttpConfig, IssuanceConfig, RateLimitConfig, WebhookConfig), for the consumers of that area,
 * and the whole (AppConfig) for what composes them.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const slices = [
      { provide: AppConfig, useValue: config },
      { provide: AuthConfig, useValue: config.auth },
      { provide: DatabaseConfig, useValue: config.database },
      { provide: HttpConfig, useValue: config.http },
      { provide: IssuanceConfig, useValue: config.issuance },
      { provide: RateLimitConfig, useValue: config.rateLimit },
      { provide: WebhookConfig, useValue: config.webhooks },
    ];
    return { module: AppConfigModule, providers: slices, exports: slices.map((s) => s.provide) };
  }
}
