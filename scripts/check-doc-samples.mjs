// Type-checks every ```ts code sample in README.md and docs/*.md against the library's source, so that
// the documentation cannot drift from the API. Each sample is its own module; `openai-resilient` and its
// subpaths resolve to src/. Names a fragment uses without defining them (`ai`, `server`, `params`...) are
// imported or declared for it (scripts/doc-samples/samples.mjs lists them). Errors are reported at the
// document's own line numbers. Run: `npm run docs:check`. (`npm run docs:run` runs the complete programs.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSamples } from './doc-samples/samples.mjs';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.cache', 'doc-samples');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const samples = readSamples(root).filter((sample) => sample.lang === 'ts');
for (const sample of samples) {
  // The sample keeps its own lines (imports included: they are hoisted); what it needs comes after it.
  writeFileSync(join(out, `${sample.name}.ts`), `${sample.code}\n${sample.prelude.join('\n')}\nexport {};\n`);
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
        'openai-resilient/tokens': ['../../src/tokenizer/index.ts'],
        'openai-resilient/prices': ['../../src/prices/index.ts'],
      },
    },
    include: ['./*.ts'],
  }),
);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], {
  cwd: root,
  encoding: 'utf8',
});
// `.cache/doc-samples/docs_testing_md_L18.ts(25,7)` -> `docs/testing.md(25,7)`: the sample's lines are the document's.
const byName = new Map(samples.map((sample) => [sample.name, sample.file]));
const output = `${tsc.stdout}${tsc.stderr}`.replace(/(?:[^\s(]*\/)?\.cache\/doc-samples\/([^\s(/]+)\.ts(?=\()/g, (whole, name) => byName.get(name) ?? whole);
if (output.trim()) process.stderr.write(output.endsWith('\n') ? output : `${output}\n`);
if (tsc.status === 0) {
  const complete = samples.filter((sample) => sample.complete).length;
  console.log(`doc samples: ${samples.length} type-checked (${complete} complete programs, ${samples.length - complete} fragments)`);
} else {
  console.error('doc samples: type errors above (at the documents\' own lines)');
  process.exitCode = 1;
}
