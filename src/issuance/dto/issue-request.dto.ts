/**
 * POST /coupons/:id/issue takes no fields: the coupon goes to the token's user, never to anyone a
 * body names. Declared so that a body with fields (`userId`, `quantity`…) is a 400, not ignored.
 */
export class IssueRequestDto {}
