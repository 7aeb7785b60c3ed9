import type { TrafficClass } from '../../src/core/traffic-class.js';
import type * as AttemptGuards from '../../src/pipeline/attempt-guards.js';

/**
 * Until views and requests declare a class (issue 26): `attempt-guards` whose `enterGuards` gives each
 * call the class its first message starts with (`interactive …`; anything else is `background`), in the
 * context it receives; the rest of the pipeline is the real one. For `vi.mock`:
 *
 *   vi.mock('…/src/pipeline/attempt-guards.js', async (original) =>
 *     (await import('…/test/support/class-by-message.js')).classByMessage(await original()));
 */
export function classByMessage(original: typeof AttemptGuards): typeof AttemptGuards {
  const classOf = (body: unknown): TrafficClass => {
    const content = (body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages?.[0]?.content;
    return typeof content === 'string' && content.startsWith('interactive') ? 'interactive' : 'background';
  };
  return {
    ...original,
    enterGuards: (ctx, request, working, ...rest) => original.enterGuards({ ...ctx, trafficClass: classOf(working.body) }, request, working, ...rest),
  };
}

/** The first message of a recorded chat request. */
export const messageOf = (body: unknown): string => (body as { messages: Array<{ content: string }> }).messages[0]!.content;
