import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

export interface ProviderKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  publicPem: string;
  jwk: JWK;
}

export const ISSUER = 'https://id.shop.test/';
export const AUDIENCE = 'coupon-service';

/**
 * A shop's identity provider, as far as the service sees one: a JSON Web Key Set over HTTP (it
 * counts the fetches) and the keys to sign tokens with, published or not.
 */
export class IdentityProvider {
  published: ProviderKey[] = [];
  fetches = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((_, response) => {
      this.fetches++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: this.published.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** A new key pair; published unless told otherwise. */
  async key(alg: 'RS256' | 'ES256', kid: string, publish = true): Promise<ProviderKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const key = { kid, alg, privateKey, publicPem: await exportSPKI(publicKey), jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
    if (publish) this.published.push(key);
    return key;
  }

  /** A token as the provider signs them (valid for 5 minutes), with `claims` overriding or removing (undefined) any. */
  sign(key: ProviderKey, claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const all: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: `customer-${key.kid}`, iat: now, exp: now + 300, ...claims };
    for (const name of Object.keys(all)) if (all[name] === undefined) delete all[name];
    return new SignJWT(all).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }
}
