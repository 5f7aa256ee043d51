import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customers of the shop's own identity provider (AUTH_JWKS_URL): a user named by the provider's
 * `sub`, made on its first request, with neither email nor password (they never log in here).
 * Every user is one or the other: an email with a password, or an external subject.
 */
export class ExternalIdentity1765000000000 implements MigrationInterface {
  name = 'ExternalIdentity1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ALTER COLUMN email DROP NOT NULL,
        ALTER COLUMN password_hash DROP NOT NULL,
        ADD COLUMN external_subject text CONSTRAINT users_external_subject_key UNIQUE,
        ADD CONSTRAINT users_identity_check CHECK ((email IS NOT NULL AND password_hash IS NOT NULL) OR external_subject IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM users WHERE email IS NULL`);
    await q.query(`
      ALTER TABLE users
        DROP CONSTRAINT users_identity_check,
        DROP COLUMN external_subject,
        ALTER COLUMN password_hash SET NOT NULL,
        ALTER COLUMN email SET NOT NULL`);
  }
}
