import type { RequestInfo } from '../core/request-info.js';
import type { TrafficClass } from '../core/traffic-class.js';
import type { RequestEventBase } from './event-map.js';

/** The fields every request event carries; `ctx` is the call's context (the tenant and class of its client view or request). */
export function eventBase(ctx: { readonly tenant: string | undefined; readonly trafficClass: TrafficClass }, request: RequestInfo): RequestEventBase {
  return { callId: request.callId, model: request.model, method: request.method, path: request.path, tenant: ctx.tenant, trafficClass: ctx.trafficClass };
}
