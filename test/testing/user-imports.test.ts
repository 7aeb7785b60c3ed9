/**
 * Users import `openai-resilient` and `openai-resilient/testing` by name; those resolve through the
 * `exports` of package.json to dist/, which only exists after a build. So that the suite never depends
 * on a build, this test proves the chain instead: each export target is the file the build emits from a
 * source entry point, and every name the node:test example (examples/node-test/, run against dist/)
 * imports by package name is exported by that source entry point.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as main from '../../src/index.js';
import * as testing from '../../src/testing/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, any>;
const pkg = readJson('package.json');
const build = readJson('tsconfig.build.json');

/** The source file the build (`tsc -p tsconfig.build.json`) compiles into the dist file `target`. */
function sourceOf(target: string): string {
  const outDir = `./${String(build['compilerOptions'].outDir).replace(/^\.\//, '')}/`;
  const rootDir = String(build['compilerOptions'].rootDir).replace(/^\.\//, '');
  expect(target.startsWith(outDir), `${target} is under ${outDir}`).toBe(true);
  return join(rootDir, target.slice(outDir.length)).replace(/\.d\.ts$|\.js$/, '.ts');
}

const entries = {
  'openai-resilient': { subpath: '.', module: main as Record<string, unknown>, source: 'src/index.ts' },
  'openai-resilient/testing': { subpath: './testing', module: testing as Record<string, unknown>, source: 'src/testing/index.ts' },
} as const;

describe('package entry points', () => {
  it('self-references resolve: the package is named, ESM, and ships dist/', () => {
    expect(pkg['name']).toBe('openai-resilient');
    expect(pkg['type']).toBe('module');
    expect(pkg['files']).toContain('dist');
    expect(build['include']).toEqual(['src']);
  });

  it.each(Object.entries(entries))('`%s` maps to the build of its source entry point', (_name, entry) => {
    const target = pkg['exports'][entry.subpath] as { types: string; default: string };
    expect(Object.keys(target)).toEqual(['types', 'default']); // `types` first, as TypeScript requires
    expect(sourceOf(target.default)).toBe(entry.source);
    expect(sourceOf(target.types)).toBe(entry.source);
    expect(target.types.replace(/\.d\.ts$/, '.js')).toBe(target.default);
  });

  it('exports the fault fetch and the fault server from openai-resilient/testing', () => {
    expect(testing.createFaultFetch).toBeTypeOf('function');
    expect(testing.startFaultServer).toBeTypeOf('function');
    expect(testing.FakeClock).toBeTypeOf('function');
    expect(testing.faults.rateLimited).toBeTypeOf('function');
    expect(main.resilient).toBeTypeOf('function');
  });

  it('every name the node:test examples import by package name is exported by the source entry point', () => {
    const dir = join(root, 'examples/node-test');
    const files = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
    expect(files.length).toBeGreaterThan(0);
    let checked = 0;
    for (const file of files) {
      const code = readFileSync(join(dir, file), 'utf8');
      for (const [, names, spec] of code.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'([^']+)'/gm)) {
        if (!(spec! in entries)) continue;
        const exported = entries[spec as keyof typeof entries].module;
        for (const name of names!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!).filter(Boolean)) {
          expect(exported, `${file}: ${name} from ${spec}`).toHaveProperty(name);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });
});
