import type { PipelineContext } from '../pipeline/pipeline-context.js';
import type { RequestInfo } from '../pipeline/request-info.js';
import type { RequestEventBase } from './event-map.js';

/** The fields every request event carries. */
export function eventBase(ctx: PipelineContext, request: RequestInfo): RequestEventBase {
  return { callId: request.callId, model: request.model, method: request.method, path: request.path, tenant: ctx.tenant };
}
