import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('coupon_issues')
export class CouponIssueEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: number;

  @Column({ name: 'coupon_id', type: 'int' })
  couponId: number;

  @Column({ name: 'user_id', type: 'int' })
  userId: number;

  /** Unguessable code the holder redeems; unique across all coupons. */
  @Column({ type: 'text', unique: true })
  code: string;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;
}
