/** What is told when the stream it stands behind is garbage-collected. */
export interface CollectedHandler {
  collected(): void;
}

/**
 * Streams handed to a caller and not yet ended: when one is garbage-collected (its caller dropped it
 * unread, or partly read), its handler ends what the stream held. The handler must not reference the
 * stream, or it would never be collected.
 */
const registry =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<CollectedHandler>((handler) => handler.collected()) : undefined;

/**
 * Calls `handler.collected()` once `stream` has been garbage-collected, unless the returned function is
 * called first (when the stream ends: nothing is left to release).
 */
export function whenCollected(stream: object, handler: CollectedHandler): () => void {
  if (!registry) return noop;
  registry.register(stream, handler, handler);
  return () => registry.unregister(handler);
}

function noop(): void {}
