import { fail } from '../../core/validate.js';
import type { ContinuationSetting, ContinuationStrategy } from './continuation-options.js';

const STRATEGIES: readonly ContinuationStrategy[] = ['prefix', 'continue_final_message', 'prefill', 'instruction'];

/** `streaming.continuation`: off (`undefined`, `false`), a strategy, or a builder function. */
export function resolveContinuation(value: unknown): ContinuationSetting | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'function') return { strategy: 'custom', builder: value as ContinuationSetting['builder'] };
  if (typeof value === 'string' && (STRATEGIES as readonly string[]).includes(value)) {
    return { strategy: value as ContinuationStrategy, builder: undefined };
  }
  return fail('streaming.continuation', `false, ${STRATEGIES.map((s) => `'${s}'`).join(', ')} or a function (body, partial) => body`, value);
}
