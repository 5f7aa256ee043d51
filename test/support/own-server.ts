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
export async function launch(server: ServerLaunch, port: number, timeoutMs = 15_000): Promise<ChildProcess> {
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
export async function launchOnFreePort(server: ServerLaunch): Promise<{ child: ChildProcess; port: number }> {
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

export function hasExited(child: ChildProcess | undefined): boolean {
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
