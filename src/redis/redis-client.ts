import { createHash } from 'node:crypto';

/** Keys and arguments of a Lua script, in the form node-redis takes them. */
export interface ScriptArguments {
  readonly keys: string[];
  readonly arguments: string[];
}

/**
 * What `openai-resilient/redis` needs from a Redis client: a connected node-redis client
 * (`createClient()` from `redis`, v5 or later) has it. Only Lua scripts are sent, so a cluster client or
 * another library can be adapted in a few lines.
 */
export interface RedisClientLike {
  /** False while the client is not connected: commands are then not sent (and not queued). */
  readonly isReady?: boolean | undefined;
  evalSha(sha1: string, options: ScriptArguments): Promise<unknown>;
  eval(script: string, options: ScriptArguments): Promise<unknown>;
  /** Connection errors are reported here; listening also keeps them from crashing the process. */
  on?(event: 'error', listener: (error: unknown) => void): unknown;
}

/** A Lua script sent by its SHA-1 (`EVALSHA`), and in full when the server does not know it yet. */
export class LuaScript {
  readonly #sha1: string;

  constructor(readonly source: string) {
    this.#sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClientLike, keys: string[], args: Array<string | number>): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await client.evalSha(this.#sha1, options);
    } catch (error) {
      // A restarted (or flushed) server has forgotten its scripts.
      if (!String((error as { message?: unknown } | undefined)?.message).includes('NOSCRIPT')) throw error;
      return client.eval(this.source, options);
    }
  }
}

/** The reply of a script that returns an array of integers, checked. */
export function integers(reply: unknown, length: number, script: string): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => typeof item === 'number' && Number.isFinite(item))) {
    throw new TypeError(`openai-resilient/redis: unexpected reply from the ${script} script.`);
  }
  return reply as number[];
}
