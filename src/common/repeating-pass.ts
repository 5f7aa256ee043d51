import { settledWithin } from './settled-within';

/**
 * Runs a pass every `everyMs`, one at a time (a pass still running when the next is due is not
 * started twice), without keeping the process alive for it. `stop` waits for the pass in hand.
 * A pass reports its own outcome: a rejection is handed to `onError`, never left unhandled.
 */
export class RepeatingPass {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly everyMs: number,
    private readonly pass: () => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.pass()
        .catch((error) => this.onError(error as Error))
        .finally(() => (this.running = undefined));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** As stop, waiting for the pass in hand `deadlineMs` at most ('late': it goes on). */
  stopWithin(deadlineMs: number): Promise<'done' | 'late'> {
    clearInterval(this.timer);
    return settledWithin(this.running, deadlineMs);
  }
}
