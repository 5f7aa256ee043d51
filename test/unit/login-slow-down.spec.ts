import { availableParallelism } from 'node:os';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { LOGIN_POLICY } from '../../src/auth/login-attempts';
import { AttemptKeys, MemoryLoginAttemptStore } from '../../src/auth/login-attempt.store';
import { clientKey } from '../../src/common/client-address';
import { parseTrustProxy } from '../../src/config/trust-proxy';

describe('the in-process log-in record (pessimistic: no Redis)', () => {
  const keys = (account: string, place = 'here'): AttemptKeys => ({ account, place: `${account}@${place}` });
  const fail = async (store: MemoryLoginAttemptStore, k: AttemptKeys, now: number) => {
    const id = `${now}-${Math.random()}`;
    const admission = await store.begin(k, id, now, LOGIN_POLICY);
    if (admission.admitted) await store.end(k, id, false);
    return admission;
  };

  it.each([1000, 100_000])('failing on many other accounts does not erase the record of the one under attack (capacity %i)', async (capacity) => {
    const store = new MemoryLoginAttemptStore(capacity);
    const target = keys('target');
    const now = Date.now();
    for (let i = 0; i < 5; i++) expect((await fail(store, target, now)).admitted).toBe(true);
    expect(await fail(store, target, now)).toMatchObject({ admitted: false, reason: 'PLACE' });
    // one failure on each of more accounts than the store holds (10,001 at the default's scale)
    const others = Math.max(capacity + 1, 10_001);
    for (let i = 0; i < others; i++) await fail(store, keys(`other-${i}`), now);
    expect(await fail(store, target, now + 500)).toMatchObject({ admitted: false, reason: 'PLACE' });
  });

  it('counts before weighing: attempts begun together are each counted, so the sixth waits even before any has ended', async () => {
    const store = new MemoryLoginAttemptStore();
    const k = keys('racing');
    const now = Date.now();
    const admissions = [];
    for (let i = 0; i < 10; i++) {
      const admission = await store.begin(k, `attempt-${i}`, now, { ...LOGIN_POLICY, maxInFlight: 100 });
      admissions.push(admission.admitted ? 'in' : admission.reason);
    }
    expect(admissions).toEqual(['in', 'in', 'in', 'in', 'in', 'PLACE', 'PLACE', 'PLACE', 'PLACE', 'PLACE']);
    // and with the real in-flight bound, only two are weighed at once
    const other = keys('flooded');
    const inFlight = [];
    for (let i = 0; i < 5; i++) inFlight.push(await store.begin(other, `f-${i}`, now, LOGIN_POLICY));
    expect(inFlight.map((a) => (a.admitted ? 'in' : a.reason))).toEqual(['in', 'in', 'IN_FLIGHT', 'IN_FLIGHT', 'IN_FLIGHT']);
  });

  it('a success forgets the failures of that address only', async () => {
    const store = new MemoryLoginAttemptStore();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await fail(store, keys('acct', 'guesser'), now);
    const owner = keys('acct', 'owner');
    expect((await store.begin(owner, 'o', now, LOGIN_POLICY)).admitted).toBe(true);
    await store.end(owner, 'o', true);
    expect(await fail(store, keys('acct', 'guesser'), now)).toMatchObject({ admitted: false, reason: 'PLACE' });
  });
});

describe('client addresses', () => {
  it('an IPv6 client counts by its /64; IPv4, mapped or not, by its address', () => {
    expect(clientKey('2001:db8:aa:bb::1')).toBe(clientKey('2001:db8:aa:bb:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:aa:bb::1')).not.toBe(clientKey('2001:db8:aa:bc::1'));
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('TRUST_PROXY: unset or false trusts nobody; true, a hop count, or a list of addresses and CIDRs; anything else refuses to start', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(() => parseTrustProxy('proxy.internal')).toThrow(/^Invalid configuration: TRUST_PROXY .*"proxy.internal"/);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow(/TRUST_PROXY/);
  });
});

describe('the password hasher under a log-in flood', () => {
  it('hashes one per core at a time, lets about 100 wait, and answers the rest 503 at once', async () => {
    const hasher = new PasswordHasher();
    const outcomes = await Promise.all(
      Array.from({ length: availableParallelism() + 130 }, () =>
        hasher.verify(undefined, 'guess').then(
          () => 'weighed',
          (error: { code?: string }) => error.code,
        ),
      ),
    );
    const weighed = outcomes.filter((o) => o === 'weighed').length;
    expect(weighed).toBeGreaterThanOrEqual(100); // those waiting, and those hashing (p-limit counts a starting one as pending)
    expect(weighed).toBeLessThanOrEqual(100 + availableParallelism());
    expect(outcomes.filter((o) => o === 'UNAVAILABLE')).toHaveLength(outcomes.length - weighed);
  });
});
