import { canonicalJson, sha256Hex } from './fingerprint.js';
import type { SdkClientInternals } from './sdk-internals.js';

/** The client view a call is made on, and the endpoint it calls (the pipeline's context is one). */
export interface ClientView {
  /** The SDK client (its API key, organization and project scope the account). */
  readonly client: unknown;
  readonly baseURL: string;
}

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
  _options?: { apiKey?: unknown };
  /** openai 7.x (later releases) hands the key of this very invocation to `capture`; earlier ones only set `apiKey`. */
  _callApiKey?: (capture?: (apiKey: string | null) => void) => Promise<unknown>;
};

interface KnownAccount {
  readonly apiKey: string;
  readonly scope: Promise<AccountScope>;
  id?: Promise<string>;
}

/** The account per client view, worked out again only when its API key changes (a rotated key). */
const accounts = new WeakMap<object, KnownAccount>();

/**
 * The account of this call's client view, for keying the cache: with an `apiKey` function, the key the
 * function gives for this call (the SDK asks it again for each request, so the key it gave last may be
 * another user's). `keyed` is `false` when the client has no key that tells its account apart (a
 * workload identity, a provider's own credentials); `undefined` when its `apiKey` function failed.
 * The same `account` object is returned for as long as the account stays the same.
 */
export async function accountScope(ctx: ClientView): Promise<{ account: AccountScope; keyed: boolean } | undefined> {
  let apiKey: string;
  try {
    apiKey = await currentApiKey(ctx.client as ClientWithAccount);
  } catch {
    // The SDK's own request fails with this error.
    return undefined;
  }
  return { account: await knownAccount(ctx, apiKey).scope, keyed: apiKey !== '' };
}

/**
 * A short fingerprint of the account (its scope as in {@link accountScope}, with the key the client holds),
 * naming it in shared state (`<id>:<model>`), so that processes calling as the same account share limits
 * and circuits and others do not. An `apiKey` function is called first if it has not been yet.
 */
export async function accountId(ctx: ClientView): Promise<string> {
  const client = ctx.client as ClientWithAccount;
  // An apiKey function not called yet leaves null (or, on openai 5.x, the placeholder 'Missing Key').
  if ((client.apiKey == null || client.apiKey === 'Missing Key') && typeof client._callApiKey === 'function') {
    await client._callApiKey().catch(() => undefined);
  }
  const known = knownAccount(ctx, keyOf(client.apiKey));
  known.id ??= known.scope.then(async (scope) => (await sha256Hex(canonicalJson({ v: 1, ...scope }))).slice(0, 32));
  return known.id;
}

function knownAccount(ctx: ClientView, apiKey: string): KnownAccount {
  const client = ctx.client as ClientWithAccount;
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

/**
 * The key this call is sent with: an `apiKey` function is asked now, as the SDK asks it for each request,
 * rather than remembered from the previous call; `''` when the client has none.
 */
async function currentApiKey(client: ClientWithAccount): Promise<string> {
  if (typeof client._options?.apiKey !== 'function' || typeof client._callApiKey !== 'function') {
    return keyOf(client.apiKey);
  }
  let captured: string | null | undefined;
  await client._callApiKey((apiKey) => {
    captured = apiKey;
  });
  return keyOf(captured === undefined ? client.apiKey : captured);
}

/** The API key, or `''` when there is none. */
function keyOf(apiKey: unknown): string {
  return typeof apiKey === 'string' && apiKey !== 'Missing Key' ? apiKey : '';
}
