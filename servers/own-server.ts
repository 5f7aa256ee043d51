import { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenablePort } from './ports';

/** How to start one server of a test's own (redis-server, postgres) and how to tell it is ready. */
export interface ServerLaunch {
  name: string;
  spawn(port: number): ChildProcess;
  ready(port: number): Promise<boolean>;
}

/**
 * Starts the server on this port and waits until it answers. If it exits first, or does not
 * answer in time, the error carries the last of what it wrote (a port clash, a bad argument).
 */
async function launch(server: ServerLaunch, port: number, timeoutMs = 15_000): Promise<ChildProcess> {
  const child = server.spawn(port);
  const output = keepOutputTail(child);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`${server.name} on ${port} exited during start-up (${child.exitCode ?? child.signalCode}): ${output()}`);
    }
    // ready, and it is our child that answered (not something else on that port)
    if ((await server.ready(port)) && !hasExited(child)) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${server.name} on ${port} did not answer within ${timeoutMs / 1000} s: ${output()}`);
}

/** `launch` on a free port, trying another port (twice at most) if the server could not start on one. */
async function launchOnFreePort(server: ServerLaunch): Promise<{ child: ChildProcess; port: number }> {
  const failures: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await listenablePort();
    try {
      return { child: await launch(server, port), port };
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new Error(failures.join('\n'));
}

/**
 * A server process of a test's own: the first start() picks a free port, and a start() after it
 * was stopped comes back on the same port, with the same data.
 */
export abstract class OwnServer {
  private chosenPort?: number;
  private process?: ChildProcess;

  /** `restartTimeoutMs`: how long a start on the port already chosen may take (recovery included). */
  protected constructor(private readonly restartTimeoutMs?: number) {}

  get port(): number {
    if (this.chosenPort === undefined) throw new Error(`${this.server().name}: start() it first`);
    return this.chosenPort;
  }

  async start(): Promise<void> {
    if (this.chosenPort !== undefined) {
      this.process = await launch(this.server(), this.chosenPort, this.restartTimeoutMs);
      return;
    }
    const { child, port } = await launchOnFreePort(this.server());
    this.process = child;
    this.chosenPort = port;
  }

  /** Sends the signal and waits until the server has exited; nothing to do when it is not running. */
  protected async stopWith(signal: NodeJS.Signals): Promise<void> {
    const p = this.process;
    if (!p || hasExited(p)) return; // gone already (a SIGKILL sets signalCode, not exitCode)
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill(signal);
    await exited;
  }

  /** A signal that does not end it (SIGSTOP, SIGCONT). */
  protected signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  protected abstract server(): ServerLaunch;
}

function hasExited(child: ChildProcess | undefined): boolean {
  return !child || child.exitCode !== null || child.signalCode !== null;
}

/** Keeps the last few kB a child wrote on stdout and stderr. */
function keepOutputTail(child: ChildProcess, limit = 4000): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-limit);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}
