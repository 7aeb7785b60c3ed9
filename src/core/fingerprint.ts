/**
 * Canonical JSON: object keys in sorted order, `undefined` members dropped, so that logically identical
 * requests serialise identically. Throws on values that are not plain data (a Blob, FormData, a stream),
 * which makes such requests uncacheable.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'undefined':
      return 'null';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value);
    default:
      throw new NotPlainDataError();
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let json = '[';
  for (let i = 0; i < items.length; i++) json += (i === 0 ? '' : ',') + canonicalJson(items[i]);
  return `${json}]`;
}

function canonicalObject(value: object): string {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new NotPlainDataError();
  const record = value as Record<string, unknown>;
  let json = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    json += `${json === '{' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${json}}`;
}

export class NotPlainDataError extends Error {}

/**
 * Node's own SHA-256, synchronous: for the small inputs of most cache keys it costs a microsecond or two,
 * where WebCrypto's asynchronous digest costs tens (`npm run bench cache`). Absent in browsers and edge
 * runtimes, which use WebCrypto.
 */
const nodeSha256: ((text: string) => string) | undefined = (() => {
  type NodeCrypto = {
    /** One-shot hash (Node ≥ 20.12): half the cost of a `Hash` object for a small input. */
    hash?(algorithm: string, text: string, encoding: 'hex'): string;
    createHash(algorithm: string): { update(text: string): { digest(encoding: 'hex'): string } };
  };
  const crypto = typeof process === 'object' ? (process.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) : undefined;
  if (!crypto) return undefined;
  const { hash } = crypto;
  return hash ? (text) => hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');
})();

/** SHA-256 of `text` as hex: Node's hash where there is one, else WebCrypto (browsers, edge runtimes). */
export async function sha256Hex(text: string): Promise<string> {
  if (nodeSha256) return nodeSha256(text);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
