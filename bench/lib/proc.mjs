// Processes: the pinned server children, their CPU time from /proc, and
// bounded waits. Every child is started here and stopped by its own pid.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_CORE = '0';
export const LOAD_CORE = '1';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Server CPU so far, in µs: user and system time of every thread of the process (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTime(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; count from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const toUs = (ticks) => (Number(ticks) * 1e6) / CLK_TCK;
  return { user: toUs(fields[11]), sys: toUs(fields[12]) };
}

/** Busy and steal time of each core so far, in µs, from /proc/stat. */
export function coreTimes() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].trim().split(/\s+/).map(Number);
    const toUs = (t) => (t * 1e6) / CLK_TCK;
    out[m[1]] = { busy: toUs(user + nice + system + irq + softirq), steal: toUs(steal ?? 0) };
  }
  return out;
}

/**
 * A measured window: the server's CPU, the runner's own CPU, and how much of
 * each core went to anything else (other processes on the machine). A window
 * where others took more than a few percent of a core is contended.
 */
export function window(serverPid, loadSidePids = []) {
  const s0 = cpuTime(serverPid);
  const own0 = loadSidePids.map(cpuTime);
  const r0 = process.cpuUsage();
  const c0 = coreTimes();
  const t0 = process.hrtime.bigint();
  return () => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e3;
    const s1 = cpuTime(serverPid);
    const r = process.cpuUsage(r0);
    const c1 = coreTimes();
    const user = s1.user - s0.user;
    const sys = s1.sys - s0.sys;
    const busy = (core) => c1[core].busy - c0[core].busy + (c1[core].steal - c0[core].steal);
    const own = loadSidePids.map(cpuTime).reduce((acc, t, i) => acc + t.user + t.sys - own0[i].user - own0[i].sys, 0);
    return {
      wall,
      user,
      sys,
      // Others on the server core: its busy time minus the server's own (clock ticks: ±1-2% noise).
      foreignServerCore: Math.max(0, (busy(SERVER_CORE) - user - sys) / wall),
      foreignLoadCore: Math.max(0, (busy(LOAD_CORE) - r.user - r.system - own) / wall),
    };
  };
}

/** Run `fn` with a deadline; a stuck step fails the run instead of hanging it. */
export async function bounded(label, ms, fn) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The script and arguments of one framework's server for a variant: `servers/<framework>.mjs <variant>`,
 * except NestJS, one script for both platforms (`nestjs` on Express, `nestjs-fastify` on Fastify).
 */
export function serverOf(framework, variant) {
  if (framework === 'nestjs-fastify') return ['servers/nestjs.mjs', [variant, 'fastify']];
  return [`servers/${framework}.mjs`, [variant]];
}

/**
 * Start `node <script> <args>` pinned to the server core, and wait for its
 * `{"ready":true,"port":…}` line. A fresh process per measurement.
 */
export async function startServer(script, args, { env = {}, nodeFlags = [], core = SERVER_CORE, timeoutMs = 20_000 } = {}) {
  const child = spawn('taskset', ['-c', core, process.execPath, ...nodeFlags, script, ...args], {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = once(child, 'exit');
  const port = await bounded(`server ${args.join(' ')} start`, timeoutMs, () =>
    new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
        if (line) resolve(JSON.parse(line).port);
      });
      exited.then(([code, signal]) => reject(new Error(`server ${script} ${args.join(' ')} exited (${code ?? signal}) before listening:\n${stderr}`)));
    }),
  );
  return {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Run a node script pinned to a core and collect its single JSON line of output. */
export async function runNode(script, args, { nodeFlags = [], core = SERVER_CORE, timeoutMs = 120_000, env = {} } = {}) {
  const child = spawn('taskset', ['-c', core, process.execPath, ...nodeFlags, script, ...args], {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const [code] = await bounded(`${script} ${args.join(' ')}`, timeoutMs, () => once(child, 'exit')).catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} failed (${code}):\n${err}`);
  return JSON.parse(out.trim().split('\n').pop());
}
