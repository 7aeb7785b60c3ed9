import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createClient } from 'redis';

/** A real `redis-server` on loopback, in a temporary directory, with persistence off. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: an outage, not a shutdown). The port stays reserved for `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

const running: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** Starts a `redis-server` (installed by `.ci/run` or the test setup) for this test; closed after it. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'openai-resilient-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 5_000);
      child!.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const stop = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGKILL');
    });
  };
  await start();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.push(server);
  return server;
}

/** A connected node-redis client, disconnected after the test; reconnects quickly after an outage. */
export async function connectRedis(server: RedisServer) {
  const client = createClient({ url: server.url, socket: { reconnectStrategy: () => 50, connectTimeout: 1_000 } });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

/** A client that can send a raw command (node-redis 5 and 6). */
interface CommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * Redis's own clock (`TIME`), in epoch milliseconds: the clock the shared-state scripts time every pause,
 * lease and refill by. Tests reason on it rather than on how fast this machine runs them.
 */
export async function redisTime(client: CommandClient): Promise<number> {
  const [seconds, micros] = (await client.sendCommand(['TIME'])) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Runs `operations` (commands on `client`, all sent in the same tick: node-redis writes them as one
 * pipeline, which Redis runs back to back) between two `TIME` readings on the same connection. Returns
 * their results and `elapsed`: the Redis time between the readings, an upper bound on the time that passed
 * on Redis's clock between any two of the operations, however busy this machine is. Scripts must already
 * be loaded (a script's first run is a NOSCRIPT round trip, then a second command).
 */
export async function backToBack<T>(client: CommandClient, operations: () => Promise<T>): Promise<{ results: T; elapsed: number }> {
  const before = redisTime(client);
  const results = operations();
  const after = redisTime(client);
  return { results: await results, elapsed: (await after) - (await before) };
}

const clients: Array<{ readonly isOpen: boolean; destroy(): void }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => (client.isOpen ? client.destroy() : undefined)));
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
