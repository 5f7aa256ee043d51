import { VerifiedTokens } from '../../src/auth/verified-tokens';

describe('VerifiedTokens (tokens already verified, until they expire)', () => {
  const user = { id: 7, role: 'user' as const, generation: 0 };

  it('answers for the very token it was given, only until its exp', () => {
    const tokens = new VerifiedTokens();
    const exp = 1_000_000; // seconds
    tokens.remember('a.b.c', user, exp);
    expect(tokens.get('a.b.c', exp * 1000 - 1)).toEqual(user);
    expect(tokens.get('a.b.d', exp * 1000 - 1)).toBeUndefined(); // a token one character off is not it
    expect(tokens.get('a.b.c', exp * 1000)).toBeUndefined(); // expired: full verification again (which refuses it)
    expect(tokens.get('a.b.c', exp * 1000 - 1)).toBeUndefined(); // and it is gone
  });

  it('stays bounded: past its capacity the oldest goes first', () => {
    const tokens = new VerifiedTokens();
    const exp = Date.now() / 1000 + 3600;
    for (let i = 0; i <= 10_000; i++) tokens.remember(`t${i}`, user, exp);
    expect(tokens.get('t0')).toBeUndefined();
    expect(tokens.get('t1')).toEqual(user);
    expect(tokens.get('t10000')).toEqual(user);
  });
});
