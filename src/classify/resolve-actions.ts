import { fail, objectWithKeys } from '../core/validate.js';
import { ERROR_KINDS, NEVER_RETRIED, type ErrorKind, type RecoveryAction } from '../errors/error-kind.js';

/** `actions`: overrides of the error-to-action table; a kind that is never retried cannot be made `'retry'`. */
export function resolveActions(value: unknown): Partial<Record<ErrorKind, RecoveryAction>> {
  const actions = objectWithKeys('actions', value, ERROR_KINDS) ?? {};
  for (const [kind, action] of Object.entries(actions)) {
    if (action !== 'retry' && action !== 'fail') fail(`actions.${kind}`, "'retry' or 'fail'", action);
    if (action === 'retry' && NEVER_RETRIED.has(kind as ErrorKind)) {
      fail(`actions.${kind}`, "'fail' (this kind is never retried)", action);
    }
  }
  return actions as Partial<Record<ErrorKind, RecoveryAction>>;
}
