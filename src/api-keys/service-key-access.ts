import { Injectable } from '@nestjs/common';
import type { ApiKeyScope } from '../common/api-key-scopes';
import type { AuthUser } from '../common/auth-user';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { MetricsService } from '../metrics/metrics.service';
import { ApiKeyLookup } from './api-key-lookup';
import { isWellFormedKey } from './api-key-secret';

/**
 * A service key at the door (the global AuthGuard sends it here): known and not deleted (else
 * 401), and its scopes include the one the route accepts (else 403). Inside, it acts as an admin
 * would on that route, with no user of its own (id 0), and is counted per key id, never secret.
 */
@Injectable()
export class ServiceKeyAccess {
  constructor(
    private readonly lookup: ApiKeyLookup,
    private readonly metrics: MetricsService,
  ) {}

  async admit(secret: string, scope: ApiKeyScope | undefined): Promise<AuthUser> {
    const key = isWellFormedKey(secret) ? await this.lookup.find(secret) : null;
    if (!key) throw new DomainError(ErrorCode.UNAUTHORIZED, 'This service key is unknown or was deleted');
    if (!scope) throw new DomainError(ErrorCode.FORBIDDEN, 'A service key cannot call this route: it is for users or admins');
    if (!key.scopes.includes(scope)) throw new DomainError(ErrorCode.FORBIDDEN, `This service key's scopes do not include ${scope}`);
    this.metrics.apiKeyRequests.inc({ key: String(key.id), scope });
    return { id: 0, role: 'admin', keyId: key.id };
  }
}
