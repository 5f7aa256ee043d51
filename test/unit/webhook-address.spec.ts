import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isInternalAddress, refusalOf } from '../../src/webhooks/webhook-address';
import { postWebhook } from '../../src/webhooks/webhook-post';

describe('webhook addresses (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ])('%s is internal', (address) => expect(isInternalAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1'])('%s is not', (address) =>
    expect(isInternalAddress(address)).toBe(false),
  );

  it('refuses what is not http(s), carries credentials, or resolves inside; allows a public address', async () => {
    expect(await refusalOf('ftp://example.com/x', false)).toMatch(/http and https/);
    expect(await refusalOf('https://user:pw@example.com/x', false)).toMatch(/credentials/);
    expect(await refusalOf('http://localhost:3000/x', false)).toMatch(/resolves to/);
    expect(await refusalOf('http://[::1]/x', false)).toMatch(/resolves to ::1/);
    expect(await refusalOf('http://93.184.216.34/x', false)).toBeUndefined();
    expect(await refusalOf('http://localhost:3000/x', true)).toBeUndefined();
  });

  it('refuses to connect to an internal address at the moment of sending (the check cannot be raced by DNS)', async () => {
    const server = createServer((_, response) => response.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await postWebhook(`http://localhost:${port}/x`, '{}', {}, false)).toEqual({ error: expect.stringMatching(/internal address/) });
      expect(await postWebhook(`http://127.0.0.1:${port}/x`, '{}', {}, false)).toEqual({ error: expect.stringMatching(/internal address/) }); // no lookup for an address
      expect(await postWebhook(`http://localhost:${port}/x`, '{}', {}, true)).toEqual({ status: 200 });
    } finally {
      server.close();
    }
  });
});
