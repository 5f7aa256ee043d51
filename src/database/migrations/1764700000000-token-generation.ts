import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revocation by a counter instead of a clock: each token carries its user's `token_generation`
 * (the `gen` claim) as it was when the token was signed, and is accepted only while it is still
 * the user's generation. A log-out, a password change and a change of role (by a trigger, so that
 * one made by hand in SQL revokes too) add one. No clock is compared, so a token signed in the
 * same second as a revocation, before it, is refused all the same (the second-granular
 * `tokens_valid_after` it replaces let such a token through).
 */
export class TokenGeneration1764700000000 implements MigrationInterface {
  name = 'TokenGeneration1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0`);
    // tokens signed before this migration carry no `gen` and are refused: their users log in again
    await q.query(`
      CREATE OR REPLACE FUNCTION users_revoke_tokens_on_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.token_generation := OLD.token_generation + 1;
        RETURN NEW;
      END $$`);
    await q.query(`ALTER TABLE users DROP COLUMN tokens_valid_after`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz`);
    await q.query(`UPDATE users SET tokens_valid_after = now() WHERE token_generation > 0`);
    await q.query(`
      CREATE OR REPLACE FUNCTION users_revoke_tokens_on_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.tokens_valid_after := date_trunc('second', clock_timestamp()) + interval '1 second';
        RETURN NEW;
      END $$`);
    await q.query(`ALTER TABLE users DROP COLUMN token_generation`);
  }
}
