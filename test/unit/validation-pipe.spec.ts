import { AppValidationPipe } from '../../src/bootstrap/validation-pipe';
import { CreateCouponDto } from '../../src/coupons/dto/create-coupon.dto';
import { IssueRequestDto } from '../../src/issuance/dto/issue-request.dto';

describe('AppValidationPipe', () => {
  const pipe = new AppValidationPipe();
  const body = (metatype: new () => unknown) => ({ type: 'body' as const, metatype });

  it('passes an empty body for a DTO without rules straight through, as the instance the library would make', async () => {
    for (const empty of [undefined, null, {}]) {
      expect(await pipe.transform(empty, body(IssueRequestDto))).toBeInstanceOf(IssueRequestDto);
    }
  });

  it('still refuses what the library refuses: fields a rule-less DTO does not declare, and an empty body where fields are required', async () => {
    await expect(pipe.transform({ userId: 7 }, body(IssueRequestDto))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('userId'),
    });
    await expect(pipe.transform({}, body(CreateCouponDto))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(pipe.transform(undefined, body(CreateCouponDto))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // a value that is empty but not a plain object is the library's to judge (an array comes back as it was)
    expect(await pipe.transform([], body(IssueRequestDto))).toEqual([]);
  });
});
