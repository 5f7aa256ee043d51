import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth-user';
import { ID_TEXT } from '../../common/decorators/id-param.decorator';
import { isEmptyBody } from '../../common/empty-body';
import { IssuanceService } from '../issuance.service';

/**
 * Answers the crowd of a sold-out coupon before anything else costs: runs right after
 * authentication, before body validation and before the strategy (whose step also counts the
 * rate limit, so a user told SOLD_OUT from the flag is not counted). So it answers only the plain
 * request (no body fields, no Idempotency-Key): anything else goes the whole way, where its faults
 * are reported first.
 */
@Injectable()
export class SoldOutGuard implements CanActivate {
  constructor(private readonly issuance: IssuanceService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ user?: AuthUser; params: Record<string, string>; body?: unknown; headers: Record<string, unknown> }>();
    const { user, body } = request;
    const plain = isEmptyBody(body) && !('idempotency-key' in request.headers);
    // only an id as IdParam would accept it (a malformed one goes on, to its 400)
    const id = request.params.id;
    if (user && plain && ID_TEXT.test(id)) this.issuance.refuseIfSoldOut(Number(id), user.id);
    return true;
  }
}
