// The original design's V1, reproduced for the benchmark only: read, check, write, with no lock
// and no transaction. It is the same service in every other respect (HTTP stack, auth, schema),
// started by bench/run.js in place of dist/main.js. No configuration reaches this code, and the
// service's own code has no hook for it: the strategy is swapped with @nestjs/testing.
'use strict';
require('reflect-metadata');
const { ModuleRef } = require('@nestjs/core');
const { Test } = require('@nestjs/testing');
const { getDataSourceToken } = require('@nestjs/typeorm');
const { createApp } = require('../dist/bootstrap/create-app');
const { loadAppConfig } = require('../dist/config/app-config');
const { couponNotFound } = require('../dist/common/errors/domain.error');
const { refusalError } = require('../dist/issuance/refusal');
const { IssuanceStrategy } = require('../dist/issuance/strategies/issuance.strategy');
const { newIssueCodes } = require('../dist/issuance/issue-code');
const { toIssueView } = require('../dist/issuance/issue.view');
const { isUniqueViolation } = require('../dist/database/postgres-errors');

class NaiveReadCheckWriteStrategy extends IssuanceStrategy {
  constructor(moduleRef) {
    super();
    this.name = 'naive';
    this.moduleRef = moduleRef;
  }

  get db() {
    // resolved on first use: the strategy is built before the DataSource exists
    return (this.dataSource ??= this.moduleRef.get(getDataSourceToken(), { strict: false }));
  }

  async issue(couponId, userId) {
    const [coupon] = await this.db.query('SELECT total_quantity, issued_quantity FROM coupons WHERE id = $1', [couponId]);
    if (!coupon) throw couponNotFound(couponId);
    const held = await this.db.query('SELECT 1 FROM coupon_issues WHERE coupon_id = $1 AND user_id = $2', [couponId, userId]);
    if (held.length) throw refusalError(couponId, 'ALREADY_ISSUED');
    if (coupon.issued_quantity >= coupon.total_quantity) throw refusalError(couponId, 'SOLD_OUT'); // the check, on a stale read
    let row;
    try {
      [row] = await this.db.query(
        'INSERT INTO coupon_issues (coupon_id, user_id, code) VALUES ($1, $2, $3) RETURNING id, coupon_id, user_id, code, issued_at',
        [couponId, userId, newIssueCodes(1)[0]],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw refusalError(couponId, 'ALREADY_ISSUED');
      throw error;
    }
    // the lost update: writes back what it read plus one
    await this.db.query('UPDATE coupons SET issued_quantity = $2 WHERE id = $1', [couponId, coupon.issued_quantity + 1]);
    return { status: 'ISSUED', issue: toIssueView(row) };
  }

  async state() {
    return undefined;
  }
  async stats() {
    return { pending: 0 };
  }
  async reconcile() {}
  dependencies() {
    return [];
  }
}

async function main() {
  const config = loadAppConfig(process.env);
  // the same application, its strategy swapped the way tests swap a provider
  const app = await createApp(config, async (root, adapter, options) => {
    const compiled = await Test.createTestingModule({ imports: [root] })
      .overrideProvider(IssuanceStrategy)
      .useFactory({ factory: (moduleRef) => new NaiveReadCheckWriteStrategy(moduleRef), inject: [ModuleRef] })
      .compile();
    return compiled.createNestApplication(adapter, options);
  });
  await app.listen({ port: config.http.port, host: '127.0.0.1' });
}

main().catch((error) => {
  console.error(`naive server failed: ${error.message}`);
  process.exit(1);
});
