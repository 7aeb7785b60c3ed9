import { classify } from '../classify/classify.js';
import type { Abortable } from '../core/abort-scope.js';
import { isPlainObject } from '../core/validate.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import type { MemberState } from '../pool/member-state.js';
import { enterGuards, type AttemptGuard } from './attempt-guards.js';
import { otherMemberReady, pickMember, type MemberPick } from './pick-member.js';
import type { PipelineContext } from './pipeline-context.js';
import type { PoolCall, PoolState } from './pool-state.js';

/** What a pooled attempt reads of its plan: the part of `AttemptPlan` (which extends it) about the call and its pool. */
export interface PooledPlan {
  /** What aborts the attempt from outside: the call (its caller's abort, its deadline) or a hedge's race. */
  readonly parent: Abortable;
  /** The call's deadline (epoch ms, on the pipeline's clock), `undefined` for none. */
  readonly deadlineAt: number | undefined;
  /** A pooled call's dealings with its pool (the attempt picks its member), `undefined` otherwise. */
  readonly pool?: PoolCall | undefined;
  /** Whether a pooled attempt may wait for a member to be ready (not when a fallback can serve the call now). */
  readonly mayWaitForMember?: boolean | undefined;
}

/**
 * For a pooled call: picks the attempt's member and enters its guards (its circuit, its rate limits, then
 * the client's bulkhead). A member that refuses at its guards (its half-open probe already out, its queue
 * full, its limits beyond the deadline) is left for another; `undefined` for a call that is not pooled.
 */
export async function pooledGuards(
  ctx: PipelineContext,
  pool: PoolState,
  request: RequestInfo,
  working: SdkRequestOptions,
  plan: PooledPlan,
): Promise<{ member: MemberPick; guard: AttemptGuard } | undefined> {
  if (!plan.pool || request.model === undefined) return undefined;
  const pooledRequest = request as RequestInfo & { model: string };
  const refused = new Set<MemberState>();
  const pickPlan = { call: plan.parent, deadlineAt: plan.deadlineAt, mayWait: plan.mayWaitForMember ?? true, refused };
  for (;;) {
    const picked = pickMember(ctx, pool, pooledRequest, plan.pool, pickPlan);
    const member = picked instanceof Promise ? await picked : picked;
    // A member whose limits are shared by processes may be paused or spent there, which routing (reading
    // this process's view of them) cannot see: while another member can take the call now, it refuses
    // rather than waits for them, and the attempt goes to that member.
    const waitUntil = member.runtime.rateLimiter?.isShared && otherMemberReady(ctx, pool, pooledRequest, plan.pool, refused) ? ctx.options.clock.now() : plan.deadlineAt;
    try {
      const guard = await enterGuards(ctx, request, working, member.breakerKey, plan.parent, waitUntil, undefined, member);
      // The member's circuit opened while the attempt waited for its rate limits: another member takes it.
      if (member.breakerKey !== undefined && ctx.shared.breakers!.refusedUntil(member.breakerKey, ctx.options.clock.now()) !== undefined) {
        guard.withdraw();
        member.end();
        refused.add(member.runtime.state);
        continue;
      }
      return { member, guard };
    } catch (error) {
      member.end();
      if (plan.parent.aborted || !POOL_REFUSALS.has(classify(error).kind)) throw error;
      refused.add(member.runtime.state);
    }
  }
}

/** Refusals by a member's own guards that another member may not share. */
const POOL_REFUSALS: ReadonlySet<string> = new Set(['circuit_open', 'rate_limit_timeout']);

/**
 * The options an attempt sends to `member`: a copy of its own, since a member's client may rewrite what it
 * sends (an `AzureOpenAI` client puts its deployment into `path`) and the call's next attempt may go to
 * another member; the model renamed to the member's name for it (an Azure deployment).
 */
export function forMember(working: SdkRequestOptions, request: RequestInfo, member: MemberPick): SdkRequestOptions {
  const { body } = working;
  if (member.model === request.model) return { ...working };
  if (isPlainObject(body)) return { ...working, body: { ...body, model: member.model } };
  // A multipart upload (audio, image edits): its form says the model, and an Azure client takes the
  // deployment from `__metadata.model`.
  if (isForm(body)) return { ...working, body: renamedForm(body, member.model), __metadata: { ...working.__metadata, model: member.model } };
  return { ...working };
}

function isForm(body: unknown): body is FormData {
  return typeof FormData !== 'undefined' && body instanceof FormData;
}

/** A copy of `form` (its files are Blobs: shared, not read) asking for `model`. */
function renamedForm(form: FormData, model: string): FormData {
  const copy = new FormData();
  for (const [name, value] of form.entries()) copy.append(name, value);
  copy.set('model', model);
  return copy;
}

/** Counts the attempt's outcome for its member (an attempt its call aborted says nothing of the member). */
export function memberAnswered(member: MemberPick, error: unknown, latency: number): void {
  if (error === undefined) member.runtime.state.answered(true, latency);
  else if (classify(error).kind !== 'aborted') member.runtime.state.answered(false, undefined);
}
