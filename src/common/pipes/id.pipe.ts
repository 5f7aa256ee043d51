import { Injectable, PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain.error';
import { ErrorCode } from '../errors/error-code';
import { PG_INT_MAX } from '../validation';

/** A path id: a positive integer in the database's integer range, else 400 VALIDATION_FAILED. */
@Injectable()
export class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > PG_INT_MAX) {
      throw new DomainError(ErrorCode.VALIDATION_FAILED, `"${value.slice(0, 40)}" is not a valid id`);
    }
    return Number(value);
  }
}
