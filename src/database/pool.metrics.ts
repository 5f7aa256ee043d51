import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { DatabaseConfig } from '../config/database.config';
import { MetricsService } from '../metrics/metrics.service';

/**
 * The PostgreSQL pool, at scrape time: connections open and idle out of DB_POOL_SIZE, and callers
 * waiting for one. A waiting count that stays above zero is an exhausted pool (requests then get
 * a 503 after DB_ACQUIRE_TIMEOUT_MS).
 */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: DatabaseConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    const pool = () => (this.db.driver as PostgresDriver).master as Pool | undefined;
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections by state: total (open), idle, waiting (callers queued for one)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      collect() {
        const p = pool();
        if (!p) return;
        this.set({ state: 'total' }, p.totalCount);
        this.set({ state: 'idle' }, p.idleCount);
        this.set({ state: 'waiting' }, p.waitingCount);
      },
    });
    new Gauge({ name: 'db_pool_max', help: 'DB_POOL_SIZE', registers: [this.metrics.registry] }).set(this.config.poolSize);
  }
}
