import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revoking a user's tokens: every token of theirs issued (`iat`) before `tokens_valid_after` is
 * refused by the guard's per-request lookup. A password change and a log-out set it; so does any
 * change of role, by a trigger, so that a role changed by hand in SQL revokes too. Tokens carry
 * whole seconds, so the mark is the start of the *next* second: a token from the same second as
 * the revocation is refused as well, and a log-in right after is signed with that second as its
 * `iat` (token.service.ts).
 */
export class TokenRevocation1764200000000 implements MigrationInterface {
  name = 'TokenRevocation1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz`);
    await q.query(`
      CREATE FUNCTION users_revoke_tokens_on_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.tokens_valid_after := date_trunc('second', clock_timestamp()) + interval '1 second';
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER users_role_change_revokes_tokens BEFORE UPDATE OF role ON users
        FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION users_revoke_tokens_on_role_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER users_role_change_revokes_tokens ON users`);
    await q.query(`DROP FUNCTION users_revoke_tokens_on_role_change()`);
    await q.query(`ALTER TABLE users DROP COLUMN tokens_valid_after`);
  }
}
