import { ArgumentMetadata, Type, ValidationPipe } from '@nestjs/common';
import { isEmptyBody } from '../common/empty-body';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

/**
 * The global pipe: class-validator DTOs, unknown fields refused (`whitelist`, `forbidNonWhitelisted`),
 * every failure a 400 VALIDATION_FAILED listing what is wrong.
 *
 * One shortcut: an empty body for a DTO that declares no rules (POST /coupons/:id/issue takes
 * none) passes whatever the library would do, so it becomes an empty instance at once. The
 * library's transform and validation of it were a twentieth of an issue's CPU.
 */
export class AppValidationPipe extends ValidationPipe {
  /** Per DTO class: whether it has any validation rule (asked once). */
  private readonly rulesOf = new WeakMap<Type<unknown>, Promise<boolean>>();

  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) =>
        new DomainError(
          ErrorCode.VALIDATION_FAILED,
          errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` })).join('; '),
        ),
    });
  }

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype as Type<unknown> | undefined;
    if (metadata.type === 'body' && metatype && this.toValidate(metadata) && isEmptyBody(value) && !(await this.hasRules(metatype))) {
      return new metatype();
    }
    return super.transform(value, metadata);
  }

  private hasRules(metatype: Type<unknown>): Promise<boolean> {
    let rules = this.rulesOf.get(metatype);
    if (!rules) this.rulesOf.set(metatype, (rules = this.hasValidationRules(metatype)));
    return rules;
  }
}
