import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { PG_INT_MAX } from './validation';

/**
 * Keyset pagination, newest first: `nextCursor` is the last item's id, and the next page holds
 * the items below it. Stable under concurrent inserts, unlike offsets.
 */
export class PageQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  // an id: never above the integer column's limit (a larger number overflowed PostgreSQL's comparison: a 500)
  @Matches(/^[1-9]\d{0,9}$/, { message: 'cursor must be a nextCursor value' })
  @ValidateBy({ name: 'isCursor', validator: { validate: (v: unknown) => Number(v) <= PG_INT_MAX, defaultMessage: () => 'cursor must be a nextCursor value' } })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;

/** Builds a page from `limit + 1` fetched rows (the extra one says whether there is more). */
export function toPage<Row, T>(rows: Row[], limit: number, idOf: (row: Row) => number, view: (row: Row) => T): Page<T> {
  const items = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? String(idOf(items[items.length - 1])) : null;
  return { items: items.map(view), nextCursor };
}
