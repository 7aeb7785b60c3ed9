/**
 * A `fetch` whose answers wait while the gate is shut: the request reaches the server at once, the client
 * sees the answer only once the gate opens. Holds an attempt (a probe, a member's call) in flight for as
 * long as a test needs, on any machine.
 */
export function answerGate() {
  let opened: Promise<void> = Promise.resolve();
  let open = () => {};
  return {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const gate = opened;
      const response = await fetch(input, init);
      await gate;
      return response;
    }) as typeof globalThis.fetch,
    shut: () => {
      opened = new Promise((resolve) => (open = resolve));
    },
    open: () => open(),
  };
}
