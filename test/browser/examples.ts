import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** An example app running as its own process, as `pnpm start` would run it. */
export interface RunningExample {
  url: string;
  stop(): Promise<void>;
  output(): string;
}


/** Start `examples/<name>/src/server.ts` with tsx against `upstreamUrl`, on a free loopback port. */
export async function startExample(name: string, env: Record<string, string>): Promise<RunningExample> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `examples/${name}/src/server.ts`], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`example ${name} exited: ${out}`);
    try {
      const res = await fetch(`${url}/login`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
