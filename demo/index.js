// `npm run demo`: the same faults, sent through the bare SDK and through resilient(), side by side.
// Runs offline against the loopback fault server; needs no API key.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { faults, startFaultServer } from '../dist/testing/index.js';

const scenarios = [
  { name: 'healthy call', faults: [] },
  { name: '429 rate limit, retry-after-ms 300', faults: [faults.rateLimited({ retryAfterMs: 300 })] },
  { name: '429 insufficient_quota (billing)', faults: [faults.insufficientQuota(), faults.insufficientQuota(), faults.insufficientQuota()] },
  { name: '503 overloaded twice, then fine', faults: [faults.overloaded(), faults.overloaded()] },
  { name: '200 with an HTML body from a proxy', faults: [faults.ok('<html>502 Bad Gateway</html>')] },
  { name: 'connection cut mid-body', faults: [faults.dropBody()] },
];

const server = await startFaultServer();
const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }] };
const bare = new OpenAI({ apiKey: 'sk-demo', baseURL: server.url });
const ai = resilient(new OpenAI({ apiKey: 'sk-demo', baseURL: server.url }));
ai.resilience.on('retry', (e) => console.log(`    resilient: ${e.kind} on attempt ${e.attempt}, retrying in ${e.delay} ms (${e.delaySource})`));

async function run(client, scenario) {
  server.reset();
  server.enqueue(...scenario.faults);
  const started = Date.now();
  try {
    await client.chat.completions.create(params);
    return { outcome: 'ok', requests: server.requests.length, ms: Date.now() - started };
  } catch (error) {
    const name = error?.constructor?.name ?? 'Error';
    return { outcome: `${name}`, requests: server.requests.length, ms: Date.now() - started };
  }
}

const rows = [];
for (const scenario of scenarios) {
  console.log(`\n${scenario.name}`);
  const sdk = await run(bare, scenario);
  console.log(`    bare SDK:  ${sdk.outcome} after ${sdk.requests} request(s)`);
  const ours = await run(ai, scenario);
  console.log(`    resilient: ${ours.outcome} after ${ours.requests} request(s)`);
  rows.push({ scenario: scenario.name, 'bare SDK': `${sdk.outcome} (${sdk.requests} req)`, 'resilient()': `${ours.outcome} (${ours.requests} req)` });
}
console.log('');
console.table(rows);
await server.close();
