import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Subjects remembered at most (the oldest go first): a few MB. */
const REMEMBERED_MAX = 100_000;

/**
 * Customers of the shop's identity provider as users of the service: the first request of a new
 * `sub` makes its user (no email, no password, role `user`), exactly once whatever the
 * concurrency. In this process, concurrent first requests share one lookup; across processes,
 * the unique `users.external_subject` decides, and the loser reads the winner's row.
 */
@Injectable()
export class ExternalUsers {
  private readonly known = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The id of the user this subject names, made now if it is new. */
  userIdFor(subject: string): Promise<number> {
    const known = this.known.get(subject);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.inFlight.get(subject);
    if (!pending) {
      pending = this.findOrCreate(subject).finally(() => this.inFlight.delete(subject));
      this.inFlight.set(subject, pending);
    }
    return pending;
  }

  private async findOrCreate(subject: string): Promise<number> {
    // the insert waits for a concurrent one of the same subject, then does nothing; its row is
    // committed by then, and the next statement (a new snapshot) reads it
    const made = await this.db.query<{ id: number }[]>(
      `INSERT INTO users (external_subject, role) VALUES ($1, 'user') ON CONFLICT (external_subject) DO NOTHING RETURNING id`,
      [subject],
    );
    const id = made[0]?.id ?? (await this.db.query<{ id: number }[]>(`SELECT id FROM users WHERE external_subject = $1`, [subject]))[0]?.id;
    if (id === undefined) throw new Error(`the user of external subject ${JSON.stringify(subject)} vanished as it was made`);
    if (this.known.size >= REMEMBERED_MAX) this.known.delete(this.known.keys().next().value!);
    this.known.set(subject, Number(id));
    return Number(id);
  }
}
