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

interface KnownAccount {
  readonly apiKey: string;
  readonly scope: Promise<AccountScope>;
  id?: Promise<string>;
}

/** The account per client view, worked out again only when its API key changes (a rotated key). */
const accounts = new WeakMap<object, KnownAccount>();

/**
 * The account of this call's client view (an `apiKey` function is called first if it has not been yet).
 * The same object is returned for as long as the account stays the same.
 */
export async function accountScope(ctx: PipelineContext): Promise<AccountScope> {
  return (await knownAccount(ctx)).scope;
}

/**
 * A short fingerprint of {@link accountScope}, naming the account in shared state (`<id>:<model>`), so
 * that processes calling as the same account share limits and circuits and others do not.
 */
export async function accountId(ctx: PipelineContext): Promise<string> {
  const known = await knownAccount(ctx);
  known.id ??= known.scope.then(async (scope) => (await sha256Hex(canonicalJson({ v: 1, ...scope }))).slice(0, 32));
  return known.id;
}

async function knownAccount(ctx: PipelineContext): Promise<KnownAccount> {
  const client = ctx.client as ClientWithAccount;
  // An apiKey function not called yet leaves null (or, on openai 5.x, the placeholder 'Missing Key').
  if ((client.apiKey == null || client.apiKey === 'Missing Key') && typeof client._callApiKey === 'function') {
    await client._callApiKey().catch(() => undefined);
  }
  const apiKey = typeof client.apiKey === 'string' ? client.apiKey : '';
  const known = accounts.get(client);
  if (known?.apiKey === apiKey) return known;
  const scope = sha256Hex(`openai-resilient:${apiKey}`).then((keyFingerprint) => ({
    baseURL: ctx.baseURL,
    organization: client.organization,
    project: client.project,
    keyFingerprint,
  }));
  const account: KnownAccount = { apiKey, scope };
  accounts.set(client, account);
  return account;
}
