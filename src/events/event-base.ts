import type { RequestInfo } from '../core/request-info.js';
import type { RequestEventBase } from './event-map.js';

/** The fields every request event carries; `ctx` is the call's context (the tenant of its client view). */
export function eventBase(ctx: { readonly tenant: string | undefined }, request: RequestInfo): RequestEventBase {
  return { callId: request.callId, model: request.model, method: request.method, path: request.path, tenant: ctx.tenant };
}
