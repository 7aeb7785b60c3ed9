// Type-checks every ```ts code sample in README.md and docs/*.md against the library's source, so that
// the documentation cannot drift from the API. Each sample is its own module; `openai-resilient` and its
// subpaths resolve to src/. Identifiers a sample uses without defining them (`params`, `server`...) are
// declared in PRELUDE below. Run: `npm run docs:check`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.cache', 'doc-samples');
/** Names a sample may use as if an earlier sample on the page had imported or defined them. */
const IMPORTS = {
  openai: { default: 'OpenAI', named: ['AzureOpenAI'] },
  'openai-resilient': { named: ['resilient', 'classify', 'fallbackFailuresOf', 'isResilienceError', 'noCache', 'defaultCacheable', 'StreamIdleTimeoutError', 'StreamTruncatedError'] },
  'openai-resilient/testing': { named: ['startFaultServer', 'faults', 'FakeClock', 'createFaultFetch'] },
  cockatiel: { named: ['ExponentialBackoff', 'timeout', 'TimeoutStrategy'] },
  redis: { named: ['createClient'] },
};
const DECLARATIONS = {
  ai: "declare const ai: import('openai-resilient').ResilientClient<import('openai').OpenAI>;",
  server: "declare const server: import('openai-resilient/testing').FaultServer;",
  params: "declare const params: import('openai').OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;",
  messages: "declare const messages: import('openai').OpenAI.Chat.ChatCompletionMessageParam[];",
  endpoint: 'declare const endpoint: string;',
  apiKey: 'declare const apiKey: string;',
  apiVersion: 'declare const apiVersion: string;',
  deployment: 'declare const deployment: string;',
  otherProvider: 'declare const otherProvider: string;',
  otherKey: 'declare const otherKey: string;',
  sorryCompletion: "declare function sorryCompletion(request: { model: string | undefined }): import('openai').OpenAI.Chat.ChatCompletion;",
  render: 'declare function render(chunk: unknown): void;',
  showPartial: 'declare function showPartial(text: string): void;',
  notifyBilling: 'declare function notifyBilling(): void;',
  retryWithShorterHistory: 'declare function retryWithShorterHistory(): void;',
  alertBilling: 'declare function alertBilling(): void;',
};

/** The sample as a module: its own imports first, then whatever it uses but does not define itself. */
function toModule(body) {
  const lines = body.split('\n');
  const imports = lines.filter((line) => /^import\b/.test(line));
  const rest = lines.filter((line) => !/^import\b/.test(line)).join('\n');
  const own = new Set();
  for (const line of imports) {
    for (const name of line.replace(/^import\s+(type\s+)?/, '').replace(/from.*$/, '').split(/[{},\s]+/)) if (name && name !== 'as' && name !== '*') own.add(name);
  }
  for (const match of rest.matchAll(/\b(?:const|let|function|class)\s+([A-Za-z_$][\w$]*)/g)) own.add(match[1]);
  for (const match of rest.matchAll(/\b(?:const|let)\s*\{([^}]*)\}/g)) for (const name of match[1].split(/[,\s:]+/)) if (name) own.add(name);
  const used = (name) => !own.has(name) && new RegExp(`\\b${name.replace('$', '\\$')}\\b`).test(rest);
  const prelude = [];
  for (const [from, { default: def, named = [] }] of Object.entries(IMPORTS)) {
    const names = named.filter(used);
    const head = def && used(def) ? def : '';
    if (head || names.length > 0) prelude.push(`import ${[head, names.length ? `{ ${names.join(', ')} }` : ''].filter(Boolean).join(', ')} from '${from}';`);
  }
  for (const [name, declaration] of Object.entries(DECLARATIONS)) if (used(name)) prelude.push(declaration);
  return `${imports.join('\n')}\n${prelude.join('\n')}\nexport {};\n${rest}\n`;
}

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const samples = [];
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8');
  let index = 0;
  for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    index++;
    const name = `${file.replace(/[/.]/g, '_')}_${index}.ts`;
    writeFileSync(join(out, name), toModule(match[1]));
    samples.push(`${file} sample ${index}`);
  }
}
// Samples may use optional third-party loggers that are not installed here.
writeFileSync(join(out, 'ambient.d.ts'), "declare module 'pino' { const pino: () => { info(...args: unknown[]): void; child(): unknown; levels: object }; export default pino; }\n");
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: {
      noEmit: true,
      noUnusedLocals: false,
      baseUrl: '.',
      paths: {
        'openai-resilient': ['../../src/index.ts'],
        'openai-resilient/testing': ['../../src/testing/index.ts'],
        'openai-resilient/otel': ['../../src/otel/index.ts'],
        'openai-resilient/redis': ['../../src/redis/index.ts'],
      },
    },
    include: ['./*.ts'],
  }),
);
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'inherit' });
  console.log(`doc samples: ${samples.length} type-checked`);
} catch {
  console.error('doc samples: type errors above (file names say which document and sample)');
  process.exitCode = 1;
}
