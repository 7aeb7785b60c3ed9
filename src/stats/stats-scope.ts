import type { RequestInfo } from '../core/request-info.js';
import type { CallStats } from './call-stats.js';
import type { TrafficClass } from '../core/traffic-class.js';

/** Where a call's numbers go: the client's total, its model's, its endpoint's, its class's and its tenant's. */
export interface StatsScope {
  /** The model the entries were looked up for (a fallback model's copy of the request gets its own). */
  readonly model: string | undefined;
  /** The collector's entries, looked up once per call; the endpoint is `METHOD /path/template`. */
  readonly entries: readonly CallStats[];
}

const templates = new Map<string, string>();

/** `/files/file-abc123/content` → `/files/{id}/content`; a segment with a digit, `_` or `-` counts as an id. */
export function pathTemplate(path: string): string {
  let template = templates.get(path);
  if (template === undefined) {
    template = path
      .split('/')
      .map((segment, index) => (index > 1 && /[\d_-]/.test(segment) ? '{id}' : segment))
      .join('/');
    if (templates.size < 1_000) templates.set(path, template);
  }
  return template;
}

/** What {@link statsScope} reads of a call's context (the pipeline's context is one). */
export interface StatsContext {
  readonly tenant: string | undefined;
  readonly trafficClass: TrafficClass;
  readonly shared: {
    readonly stats: { entries(model: string | undefined, endpoint: string, tenant: string | undefined, trafficClass: TrafficClass): readonly CallStats[] };
  };
}

/**
 * The scope of a call's numbers, made once per call and kept on its `request`. A copy of the request for
 * a fallback model carries the primary's scope along; its other model makes it a scope of its own.
 */
export function statsScope(ctx: StatsContext, request: RequestInfo): StatsScope {
  // Only this function makes and reads the slot (core/request-info.ts keeps it opaque).
  let scope = request.statsScope as StatsScope | undefined;
  if (scope === undefined || scope.model !== request.model) {
    const endpoint = `${request.method} ${pathTemplate(request.path)}`;
    scope = { model: request.model, entries: ctx.shared.stats.entries(request.model, endpoint, ctx.tenant, ctx.trafficClass) };
    request.statsScope = scope;
  }
  return scope;
}
