import type { ModuleRef } from '@nestjs/core';
import type { IssuanceStrategy } from './issuance.strategy';

/**
 * Replaces the configured strategy with one built in code. Only `npm run bench` uses it, to run
 * the original design's racy V1 beside the real strategies; no configuration can reach it.
 */
export const STRATEGY_OVERRIDE = Symbol('STRATEGY_OVERRIDE');
export type StrategyOverride = (moduleRef: ModuleRef) => IssuanceStrategy;
