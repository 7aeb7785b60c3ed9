import type { IPolicy } from 'cockatiel';
import type { AbortScope } from '../core/abort-scope.js';

/**
 * Runs a call's work under the user's `policies.call`, with the call's own abort (its caller, its
 * deadline) in charge:
 * - the call follows the policy's signal only while the work runs: the policy aborts it as soon as the
 *   work returns (a cockatiel `timeout`'s `abortOnReturn`), and a stream handed over must outlive that;
 * - a call that is waiting inside the policy rather than running (queued in a cockatiel `bulkhead`,
 *   between a cockatiel `retry`'s tries) ends as soon as the call aborts, with `aborted()`'s error (as
 *   does the policy's own error for an aborted call, such as cockatiel's `TaskCancelledError`);
 * - a call aborted before it starts never enters the policy.
 *
 * While the work runs, the pipeline answers an abort itself, with what it knows of the attempts made.
 */
export function underCallPolicy<T>(
  policy: IPolicy<any, any>,
  call: AbortScope,
  work: () => Promise<T>,
  aborted: (error: unknown) => unknown,
): Promise<T> {
  if (call.aborted) return Promise.reject(aborted(call.reason));
  let running = 0;
  let workError: unknown;
  const done = policy.execute(async ({ signal }: { signal: AbortSignal }) => {
    running++;
    const unfollow = call.follow(signal);
    try {
      return (await work()) as T;
    } catch (error) {
      workError = error;
      throw error;
    } finally {
      unfollow();
      running--;
    }
  }, call.signal) as Promise<T>;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (running > 0) return;
      // Whatever the policy does with its work now is nobody's: it settles unobserved.
      done.catch(() => undefined);
      reject(aborted(call.reason));
    };
    call.signal.addEventListener('abort', onAbort, { once: true });
    done.then(
      (value) => {
        call.signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        call.signal.removeEventListener('abort', onAbort);
        // The policy's own error for an aborted call (a cockatiel `TaskCancelledError`) says so in the SDK's terms.
        reject(call.aborted && error !== workError ? aborted(error) : error);
      },
    );
  });
}
