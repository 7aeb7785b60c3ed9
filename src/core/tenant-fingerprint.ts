import { sha256Hex } from './fingerprint.js';

/**
 * A short fingerprint of a tenant's id (see `resilience.forTenant()`), naming it in state shared by
 * processes: the id itself (a user's, a customer's) never reaches the shared store.
 */
export async function tenantFingerprint(tenant: string): Promise<string> {
  return (await sha256Hex(`openai-resilient:tenant:${tenant}`)).slice(0, 32);
}
