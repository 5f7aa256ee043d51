import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { AppConfig } from './app-config';

/** Provides the configuration validated at start-up, injectable as `AppConfig`. */
@Global()
@Module({})
export class AppConfigModule {
  /** `extra` providers are made global beside the configuration (the benchmark's strategy override). */
  static forRoot(config: AppConfig, extra: Provider[] = []): DynamicModule {
    const providers: Provider[] = [{ provide: AppConfig, useValue: config }, ...extra];
    return { module: AppConfigModule, providers, exports: providers.map((p) => ('provide' in p ? p.provide : p)) };
  }
}
