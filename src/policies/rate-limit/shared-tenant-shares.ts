import { tenantFingerprint } from '../../core/tenant-fingerprint.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { bucketCapacity } from './bucket-capacity.js';
import type { TenantHold } from './tenant-shares.js';

/** One request taken from a tenant's shared share: how long until it is covered, and how to give it back. */
export interface SharedTenantTake {
  readonly wait: number;
  readonly hold: TenantHold;
}

/**
 * Tenant shares (`tenantShare`) counted by every process through the shared state (`tenantReserve`,
 * `tenantRefund`): one bucket per account, tenant (by fingerprint) and model, at `share` of the model's
 * request rate, so a tenant gets its share of the account's rate across processes, not once per process.
 * When the shared state does not answer, the caller takes the share from this process's own bucket.
 */
export class SharedTenantShares {
  constructor(
    private readonly link: SharedLink,
    private readonly share: number,
  ) {}

  /** Whether the backend keeps tenant shares (else they stay per process). */
  get available(): boolean {
    const { backend } = this.link;
    return typeof backend.tenantReserve === 'function' && typeof backend.tenantRefund === 'function';
  }

  /**
   * Takes one request from the share of `tenant` of the model named by `sharedKey` (`<account>:<model>`),
   * whose requests are paced at `modelPerMinute`; `undefined` when the shared state did not answer
   * (nothing was taken there).
   */
  async take(sharedKey: string, tenant: string, modelPerMinute: number): Promise<SharedTenantTake | undefined> {
    const colon = sharedKey.indexOf(':');
    // The account's fingerprint has no colon; a model name may.
    const key = `${sharedKey.slice(0, colon)}:${await tenantFingerprint(tenant)}:${sharedKey.slice(colon + 1)}`;
    const perMinute = modelPerMinute * this.share;
    const capacity = bucketCapacity('requests', perMinute);
    const wait = await this.link.run('tenantReserve', (backend) => backend.tenantReserve!(key, perMinute, capacity));
    if (wait === undefined) return undefined;
    let refunded = false;
    const hold: TenantHold = {
      refund: () => {
        if (refunded) return;
        refunded = true;
        this.link.send('tenantRefund', (backend) => backend.tenantRefund!(key, perMinute, capacity));
      },
    };
    return { wait: Math.max(0, wait), hold };
  }
}
