// Preloaded (`--import`) into every process that runs a documentation sample (scripts/run-doc-samples.mjs):
// keeps the sample off the network. `fetch` to https://api.openai.com (the SDK's default base URL) goes to
// the fault server instead (DOC_SAMPLES_OPENAI_ORIGIN), loopback addresses are reached as they are, and any
// other address is refused (the fetch rejects with a TypeError saying so).
const openaiOrigin = process.env.DOC_SAMPLES_OPENAI_ORIGIN;
const realFetch = globalThis.fetch;
const loopback = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

globalThis.fetch = function fetch(input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.origin === 'https://api.openai.com' && openaiOrigin) {
    const target = new URL(`${url.pathname}${url.search}`, openaiOrigin);
    return realFetch(input instanceof Request ? new Request(target, input) : target, init);
  }
  if (loopback.has(url.hostname)) return realFetch(input, init);
  return Promise.reject(new TypeError(`documentation samples run offline: fetch(${url.origin}) refused (only https://api.openai.com, sent to the fault server, and loopback addresses)`));
};
