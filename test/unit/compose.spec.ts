import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docker-compose.yml, read as text (no Docker here): it ships no known password, publishes the
 * datastores on the loopback interface only, and gives Redis a password that the service uses.
 */
describe('docker-compose.yml', () => {
  const compose = readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
  const lines = compose.split('\n').filter((line) => !line.trim().startsWith('#'));

  it('has no default password: the admin and Redis passwords and the JWT secret must be given', () => {
    expect(compose).not.toMatch(/change-me/);
    expect(compose).toMatch(/ADMIN_PASSWORD: \$\{ADMIN_PASSWORD:\?/);
    expect(compose).toMatch(/JWT_SECRET_KEY: \$\{JWT_SECRET_KEY:\?/);
    expect(compose).toMatch(/"--requirepass", "\$\{REDIS_PASSWORD:\?/);
  });

  it('publishes ports on 127.0.0.1 only (the API excepted)', () => {
    const published = lines.flatMap((line) =>
      [...line.matchAll(/ports: \[([^\]]*)\]/g)].flatMap((m) => m[1].split(',').map((p) => p.trim().replace(/"/g, ''))),
    );
    expect(published.length).toBeGreaterThan(0);
    const datastores = published.filter((p) => !p.endsWith(':3000'));
    expect(datastores).toEqual(['127.0.0.1:5432:5432', '127.0.0.1:6379:6379']);
  });

  it('the service connects to Redis with that password', () => {
    expect(compose).toMatch(/REDIS_URL: redis:\/\/:\$\{REDIS_PASSWORD\}@redis:6379/);
  });
});
