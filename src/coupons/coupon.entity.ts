import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn } from 'typeorm';

export const COUPON_STATUSES = ['ACTIVE', 'PAUSED', 'ENDED'] as const;
export type CouponStatus = (typeof COUPON_STATUSES)[number];

@Entity('coupons')
export class CouponEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'total_quantity', type: 'int' })
  totalQuantity: number;

  /** Coupons issued so far; the schema keeps it within 0..total_quantity. */
  @Column({ name: 'issued_quantity', type: 'int', default: 0 })
  issuedQuantity: number;

  @Column({ name: 'starts_at', type: 'timestamptz', nullable: true })
  startsAt: Date | null;

  @Column({ name: 'ends_at', type: 'timestamptz', nullable: true })
  endsAt: Date | null;

  @Column({ type: 'text', default: 'ACTIVE' })
  status: CouponStatus;

  /** An issue can be redeemed for this many days after it was issued (and never past redeemUntil). */
  @Column({ name: 'valid_days', type: 'int', nullable: true })
  validDays: number | null;

  @Column({ name: 'redeem_until', type: 'timestamptz', nullable: true })
  redeemUntil: Date | null;

  /** Moved on by every admin change (saved through this entity), never by issuance: orders the changes' Redis steps. */
  @VersionColumn({ type: 'int' })
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
