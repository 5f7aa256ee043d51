import type { DomainError } from '../../common/errors/domain.error';
import { alreadyIssued, notOpen, soldOut } from '../issuance.errors';
import type { Verdict } from './reservation.store';

/** The answer for a reservation Redis refused. */
export function verdictRefusal(couponId: number, verdict: Exclude<Verdict, 'OK'>): DomainError {
  switch (verdict) {
    case 'ALREADY_ISSUED':
      return alreadyIssued(couponId);
    case 'NOT_OPEN':
      return notOpen(couponId, 'the campaign is not open');
    case 'SOLD_OUT':
      return soldOut(couponId);
  }
}
