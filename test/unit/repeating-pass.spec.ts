import { RepeatingPass } from '../../src/common/repeating-pass';

/** The background passes (repairs, sweeper, webhook delivery) and how they stop. */
describe('RepeatingPass', () => {
  /** A pass that ends only when the test says so, and counts how often it was started. */
  function heldPass() {
    let started = 0;
    let release = () => undefined as void;
    const pass = () => {
      started++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    return { pass, started: () => started, release: () => release() };
  }
  const untilStarted = async (held: { started: () => number }) => {
    while (held.started() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('never runs two passes at once: one still running when the next is due is not started again', async () => {
    const held = heldPass();
    const passes = new RepeatingPass(5, held.pass, () => undefined);
    passes.start();
    await untilStarted(held);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(held.started()).toBe(1);
    held.release();
    await passes.stop();
  });

  it('stopWithin: the pass in hand is waited for when it ends in time, and not beyond the deadline when it does not', async () => {
    const quick = heldPass();
    const passes = new RepeatingPass(5, quick.pass, () => undefined);
    passes.start();
    await untilStarted(quick);
    setTimeout(() => quick.release(), 20);
    expect(await passes.stopWithin(2000)).toBe('done');

    const stuck = heldPass(); // a statement waiting on a lock that nobody releases
    const held = new RepeatingPass(5, stuck.pass, () => undefined);
    held.start();
    await untilStarted(stuck);
    const t0 = Date.now();
    expect(await held.stopWithin(100)).toBe('late');
    expect(Date.now() - t0).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stuck.started()).toBe(1); // stopped: no pass after it
    stuck.release();
  });

  it('a failing pass is reported to onError, and the next one still runs', async () => {
    const errors: string[] = [];
    let runs = 0;
    const passes = new RepeatingPass(
      5,
      async () => {
        runs++;
        if (runs === 1) throw new Error('PostgreSQL went away');
      },
      (error) => errors.push(error.message),
    );
    passes.start();
    while (runs < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await passes.stop();
    expect(errors).toEqual(['PostgreSQL went away']);
  });
});
