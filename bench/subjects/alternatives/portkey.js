// Subject "Portkey gateway": Portkey's open-source AI gateway run locally from npm (`@portkey-ai/gateway`,
// `node build/start-server.js --headless`, a process of its own), with the OpenAI SDK pointed at it as
// Portkey's docs show: `baseURL` the gateway, `x-portkey-provider: openai`, `x-portkey-custom-host` the
// upstream, and a config with `retry: { attempts: 3 }` (Portkey retries nothing unless configured; it then
// retries 429 and 5xx after 1, 2, 4 s, without jitter, ignoring Retry-After unless `use_retry_after_header`).
// The SDK keeps its defaults (2 retries), as the docs' examples do. Reached over HTTP only: no in-memory fetch.
// Streams fail through this gateway version on Node 20 and 22 ("TypeError: immutable" as it appends a header
// to the upstream's Response), so the cases use it for chat calls only.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { targetOf } from '../chat-facade.js';
import { installedVersions } from './versions.js';

const START_SERVER = fileURLToPath(new URL('./node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url));
const CONFIG = JSON.stringify({ retry: { attempts: 3 } });
const READY = 'Ready for connections';
const START_TIMEOUT_MS = 20_000;

/** A port free right now on loopback (the gateway takes its port on its command line). */
async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

let gateway;

/** Starts the gateway (once); resolves when it accepts connections. */
async function open() {
  if (gateway) return;
  const port = await freePort();
  const child = spawn(process.execPath, [START_SERVER, `--port=${port}`, '--headless'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Portkey gateway: not ready after ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`)), START_TIMEOUT_MS);
    const onData = (text) => {
      output += text;
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    // Its errors (e.g. every failed upstream attempt) go to stderr: kept short, for a failure's message.
    child.stderr.setEncoding('utf8').on('data', (text) => (output = (output + text).slice(-20_000)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Portkey gateway exited with ${code} before it was ready:\n${output.slice(-2000)}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill();
    throw error;
  }
  gateway = { child, url: `http://127.0.0.1:${port}/v1` };
}

/** Stops the gateway. */
async function close() {
  if (!gateway) return;
  const { child } = gateway;
  gateway = undefined;
  if (child.exitCode === null) {
    child.kill();
    await once(child, 'exit');
  }
}

function makeClient(target) {
  if (!gateway) throw new Error('Portkey gateway: call `await subject.open()` before makeClient()');
  const { baseURL, fetch } = targetOf(target);
  if (fetch) throw new TypeError('Portkey gateway: reaches its upstream over HTTP; an in-memory `fetch` cannot be its upstream');
  return new OpenAI({
    apiKey: 'sk-bench',
    baseURL: gateway.url,
    defaultHeaders: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': baseURL, 'x-portkey-config': CONFIG },
  });
}

/** @type {import('../index.js').Subject} */
export const portkey = {
  key: 'portkey',
  name: 'Portkey gateway',
  configuration:
    'the gateway run locally (`@portkey-ai/gateway`, its own process), config `{ retry: { attempts: 3 } }`; `new OpenAI()` ' +
    'pointed at it with its `x-portkey-*` headers, SDK defaults (2 retries); chat only',
  versions: installedVersions(['@portkey-ai/gateway', 'openai']),
  inMemoryFetch: false,
  open,
  close,
  makeClient,
};
