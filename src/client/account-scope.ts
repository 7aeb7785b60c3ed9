import { canonicalJson, sha256Hex } from '../cache/cache-key.js';
import type { PipelineContext } from '../pipeline/pipeline-context.js';
import type { SdkClientInternals } from './sdk-internals.js';

/** The account a client view calls as: its endpoint, organization, project and a fingerprint of its API key. */
export interface AccountScope {
  readonly baseURL: string;
  readonly organization: string | null | undefined;
  readonly project: string | null | undefined;
  /** SHA-256 of the API key (or of its absence); never the key itself. */
  readonly keyFingerprint: string;
}

type ClientWithAccount = SdkClientInternals & {
  apiKey?: unknown;
  organization?: string | null;
  project?: string | null;
  _callApiKey?: () => Promise<unknown>;
};

/** The account of this call's client view (an `apiKey` function is called first if it has not been yet). */
export async function accountScope(ctx: PipelineContext): Promise<AccountScope> {
  const client = ctx.client as ClientWithAccount;
  // An apiKey function not called yet leaves null (or, on openai 5.x, the placeholder 'Missing Key').
  if ((client.apiKey == null || client.apiKey === 'Missing Key') && typeof client._callApiKey === 'function') {
    await client._callApiKey().catch(() => undefined);
  }
  const apiKey = typeof client.apiKey === 'string' ? client.apiKey : '';
  return {
    baseURL: ctx.baseURL,
    organization: client.organization,
    project: client.project,
    keyFingerprint: await remembered(client, `key:${apiKey}`, () => sha256Hex(`openai-resilient:${apiKey}`)),
  };
}

/**
 * A short fingerprint of {@link accountScope}, naming the account in shared state (`<id>:<model>`), so
 * that processes calling as the same account share limits and circuits and others do not.
 */
export async function accountId(ctx: PipelineContext): Promise<string> {
  const scope = await accountScope(ctx);
  return remembered(ctx.client as object, `id:${scope.keyFingerprint}:${scope.baseURL}:${scope.organization}:${scope.project}`, async () =>
    (await sha256Hex(canonicalJson({ v: 1, ...scope }))).slice(0, 32),
  );
}

/** The last value per client view and purpose: computed again only when its input changes. */
const memo = new WeakMap<object, Map<string, { input: string; value: Promise<string> }>>();

function remembered(client: object, input: string, compute: () => Promise<string>): Promise<string> {
  let byPurpose = memo.get(client);
  if (!byPurpose) memo.set(client, (byPurpose = new Map()));
  const purpose = input.slice(0, input.indexOf(':'));
  const known = byPurpose.get(purpose);
  if (known?.input === input) return known.value;
  const value = compute();
  byPurpose.set(purpose, { input, value });
  return value;
}
