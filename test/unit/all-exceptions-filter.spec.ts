import { ArgumentsHost, Logger } from '@nestjs/common';
import { AllExceptionsFilter } from '../../src/bootstrap/all-exceptions.filter';
import { unavailable } from '../../src/common/errors/domain.error';

/** A request and a reply as the filter reads and writes them. */
function hostFor(requestId: string) {
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    headers: () => reply,
    status: (code: number) => ((sent.status = code), reply),
    send: (body: unknown) => ((sent.body = body), reply),
  };
  const request = { id: requestId, method: 'POST', url: '/coupons/7/issue' };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('AllExceptionsFilter', () => {
  afterEach(() => jest.restoreAllMocks());

  // Above debug, log lines are not bound to their request (request-logging.ts): the filter's own
  // lines, the ones an operator reads after a user reports an error, name it themselves.
  it('names the request on the lines it logs (500, 503), with the id the error body shows', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const filter = new AllExceptionsFilter();

    const failed = hostFor('req-500');
    filter.catch(new Error('boom'), failed.host);
    expect(failed.sent).toMatchObject({ status: 500, body: { code: 'INTERNAL', requestId: 'req-500' } });
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ requestId: 'req-500', method: 'POST', url: '/coupons/7/issue' }));

    const overloaded = hostFor('req-503');
    filter.catch(unavailable('the pool is exhausted'), overloaded.host);
    expect(overloaded.sent).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE', requestId: 'req-503' } });
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ requestId: 'req-503' }));
  });
});
