import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { PageQuery } from '../../src/common/pagination';
import { PG_INT_MAX } from '../../src/common/validation';
import { CreateCouponDto } from '../../src/coupons/dto/create-coupon.dto';
import { UpdateCouponDto } from '../../src/coupons/dto/update-coupon.dto';

/**
 * Whatever a client sends as a date or a cursor, it is either refused (400) or something
 * PostgreSQL can take: a real date, an id within the integer column. Both used to pass validation
 * and fail in PostgreSQL as a 500 (`startsAt: "2026-W01-1"`, `cursor=99999999999`).
 */
const valid = (cls: new () => object, plain: object) =>
  validateSync(plainToInstance(cls, plain) as object, { whitelist: true, forbidNonWhitelisted: true }).length === 0;
const DATE_FIELDS = ['startsAt', 'endsAt', 'redeemUntil'] as const;

describe('dates and cursors: refused, or fit for PostgreSQL', () => {
  it('refuses the inputs that were 500s', () => {
    expect(valid(CreateCouponDto, { name: 'x', totalQuantity: 1, startsAt: '2026-W01-1' })).toBe(false);
    expect(valid(PageQuery, { cursor: '99999999999' })).toBe(false);
    expect(valid(PageQuery, { cursor: String(PG_INT_MAX + 1) })).toBe(false);
    expect(valid(PageQuery, { cursor: String(PG_INT_MAX) })).toBe(true);
    for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01', '2026-001T00:00:00Z', '2026-01-01T00:00:00']) {
      expect(valid(CreateCouponDto, { name: 'x', totalQuantity: 1, startsAt: bad })).toBe(false);
    }
    for (const good of ['2026-11-27T00:00:00Z', '2026-11-27T09:30+09:00', '2026-11-27T00:00:00.123456Z', '2028-02-29T12:00:00-05:00']) {
      expect(valid(CreateCouponDto, { name: 'x', totalQuantity: 1, startsAt: good })).toBe(true);
    }
  });

  it.each(DATE_FIELDS)('%s: any string is refused, or parses to a real date (property)', (field) => {
    // what ISO 8601 allows beyond RFC 3339: week dates and ordinal dates, with or without a time
    const otherIso8601 = fc
      .tuple(
        fc.integer({ min: 1970, max: 2100 }),
        fc.integer({ min: 1, max: 53 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 366 }),
        fc.boolean(),
      )
      .chain(([y, w, d, ord, withTime]) =>
        fc.constantFrom(`${y}-W${String(w).padStart(2, '0')}-${d}`, `${y}-${String(ord).padStart(3, '0')}`).map((v) => (withTime ? `${v}T10:00:00Z` : v)),
      );
    const isoLike = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0, max: 33 }),
        fc.integer({ min: 0, max: 26 }),
        fc.constantFrom('Z', '+09:00', '-24:00', ''),
      )
      .map(
        ([y, mo, d, h, z]) =>
          `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00${z}`,
      );
    fc.assert(
      fc.property(fc.oneof(fc.string(), isoLike, otherIso8601), (value) => {
        for (const cls of [CreateCouponDto, UpdateCouponDto]) {
          if (valid(cls, { name: 'x', totalQuantity: 1, [field]: value })) expect(Number.isNaN(new Date(value).getTime())).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('cursor: any string is refused, or an id within the integer column (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.bigInt({ min: -10n, max: 10n ** 6n }).map(String),
          fc.bigInt({ min: 2n ** 31n - 10n, max: 2n ** 31n + 10n }).map(String), // around the column's limit
          fc.bigInt({ min: 1n, max: 10n ** 17n }).map(String),
        ),
        (cursor) => {
          if (!valid(PageQuery, { cursor })) return;
          expect(Number(cursor)).toBeGreaterThanOrEqual(1);
          expect(Number(cursor)).toBeLessThanOrEqual(PG_INT_MAX);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
