// Checks what `npm pack` put in the tarball (called by .ci/consumers.sh):
//   node .ci/check-tarball.mjs <npm pack --json output> <dir the tarball was extracted to> <repo root>
// Fails (exit 1) on: tests, sources, source maps, bench/ .ci/ examples/ demo/ or config files in the
// tarball; a missing entry point, declaration or README/CHANGELOG; an `exports`/`main`/`types`/`bin`
// target that is not packed; a `sourceMappingURL` or a relative import in a packed .js/.d.ts that points
// to a file not packed; an import of the optional peer `redis` (or `@redis/client`, `@opentelemetry/api`
// outside dist/otel/, `gpt-tokenizer` outside dist/tokenizer/) in a packed .js/.d.ts; a LICENSE in the
// repository that is not packed. Warns on a missing LICENSE and on relative Markdown links to files that
// are not packed.
/* global console, process */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const [packJsonPath, extractedDir, repoRoot] = process.argv.slice(2);
if (!packJsonPath || !extractedDir || !repoRoot) {
  console.error('usage: node .ci/check-tarball.mjs <pack.json> <extracted dir> <repo root>');
  process.exit(2);
}

const [pack] = JSON.parse(readFileSync(packJsonPath, 'utf8'));
const files = new Set(pack.files.map((f) => f.path));
const root = join(extractedDir, 'package');
const read = (path) => readFileSync(join(root, path), 'utf8');
const manifest = JSON.parse(read('package.json'));
const errors = [];
const warnings = [];
const fail = (message) => errors.push(message);

// The listing of npm pack --json and the tarball itself agree.
for (const path of files) if (!existsSync(join(root, path))) fail(`listed by npm pack but not in the tarball: ${path}`);
if (errors.length > 0) {
  for (const error of errors) console.error(`  FAIL ${error}`);
  process.exit(1);
}

// 1. Nothing but the build, the docs and the manifest.
const forbidden = [
  [/^(src|test|tests|bench|examples|demo|coverage|node_modules|\.ci|\.github)\//, 'a folder that is not published'],
  [/\.map$/, 'a source map'],
  [/(^|\/)__tests__\/|\.(test|spec|test-d)\.[cm]?[jt]sx?$/, 'a test'],
  [/\.tsbuildinfo$/, 'a TypeScript build cache'],
  [/(^|\/)\.[^/]+$/, 'a dotfile'],
  [/^(tsconfig[^/]*\.json|eslint\.config\.[cm]?js|vitest\.config\.[cm]?ts|package-lock\.json|[^/]+\.tgz)$/, 'a repository config file'],
  [/(?<!\.d)\.(ts|mts|cts|tsx)$/, 'TypeScript source (not a declaration)'],
];
for (const path of files) {
  for (const [pattern, what] of forbidden) if (pattern.test(path)) fail(`${path}: ${what} in the tarball`);
}

// 2. What must be there.
const required = [
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/testing/index.js',
  'dist/testing/index.d.ts',
  'dist/otel/index.js',
  'dist/otel/index.d.ts',
  'dist/redis/index.js',
  'dist/redis/index.d.ts',
  'dist/tokenizer/index.js',
  'dist/tokenizer/index.d.ts',
  'dist/cli/index.js',
];
for (const path of required) if (!files.has(path)) fail(`missing from the tarball: ${path}`);

// 3. Every target the manifest names is packed.
const targets = [];
const collect = (value, where) => {
  if (typeof value === 'string') targets.push([value, where]);
  else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) collect(inner, `${where}[${JSON.stringify(key)}]`);
};
collect(manifest.exports, 'exports');
collect(manifest.main, 'main');
collect(manifest.types, 'types');
collect(typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : manifest.bin, 'bin');
for (const [target, where] of targets) {
  if (target.includes('*')) continue;
  const path = normalize(target).replace(/^\.\//, '');
  if (!files.has(path)) fail(`${where} points to ${target}, which is not in the tarball`);
}
for (const [name, bin] of Object.entries(typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {}))) {
  const path = normalize(bin).replace(/^\.\//, '');
  if (files.has(path) && !read(path).startsWith('#!/usr/bin/env node')) fail(`bin ${name} (${bin}) has no #!/usr/bin/env node line`);
}

// 4. Every JavaScript file of the library has its declarations (the CLI's are left out on purpose).
for (const path of files) {
  if (!/^dist\/.*\.js$/.test(path) || path.startsWith('dist/cli/')) continue;
  const declaration = path.replace(/\.js$/, '.d.ts');
  if (!files.has(declaration)) fail(`${path} has no ${declaration}`);
}

// 5. No pointer from a packed file to a file that is not packed: source map comments, relative imports.
const specifiers = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
let pointers = 0;
for (const path of files) {
  if (!/\.(m|c)?js$|\.d\.(m|c)?ts$/.test(path)) continue;
  const text = read(path);
  for (const match of text.matchAll(/[#@]\s*sourceMappingURL=(\S+)/g)) {
    pointers++;
    const target = normalize(join(dirname(path), match[1]));
    if (!match[1].startsWith('data:') && !files.has(target)) fail(`${path}: sourceMappingURL ${match[1]} points nowhere`);
    else warnings.push(`${path}: has a sourceMappingURL (${match[1].slice(0, 40)})`);
  }
  for (const match of text.matchAll(specifiers)) {
    pointers++;
    const target = normalize(join(dirname(path), match[1]));
    const candidates = path.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts'), target] : [target];
    if (!candidates.some((candidate) => files.has(candidate))) fail(`${path}: imports ${match[1]}, which is not in the tarball`);
  }
}

// 5b. Optional peers are never imported at run time: `redis` (node-redis) is only ever passed in by the
//     application, so no packed .js may import it, and no packed .d.ts may either (a consumer without it
//     would fail to type-check). `@opentelemetry/api` is allowed in dist/otel/ only, `gpt-tokenizer` in
//     dist/tokenizer/ only (the main entry imports it lazily, by a specifier no bundler or check follows).
const optionalPeers = [
  ['redis', () => false],
  ['@redis/client', () => false],
  ['@opentelemetry/api', (path) => path.startsWith('dist/otel/')],
  ['gpt-tokenizer', (path) => path.startsWith('dist/tokenizer/')],
];
for (const path of files) {
  if (!/\.(m|c)?js$|\.d\.(m|c)?ts$/.test(path)) continue;
  const text = read(path);
  for (const [peer, allowed] of optionalPeers) {
    const escaped = peer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const pattern = new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\bimport\\s+|\\brequire\\s*\\(\\s*)['"]${escaped}(?:/[^'"]*)?['"]`);
    if (pattern.test(text) && !allowed(path)) fail(`${path}: imports the optional peer ${peer}, which an application may not have installed`);
  }
}

// 6. LICENSE: required when the repository has one; a warning otherwise (package.json says MIT).
const license = [...files].find((path) => /^(LICEN[CS]E|COPYING)(\.(md|txt))?$/i.test(path));
const repoLicense = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE'].find((name) => existsSync(join(repoRoot, name)));
if (repoLicense && !license) fail(`${repoLicense} exists in the repository but is not in the tarball`);
if (!license) warnings.push(`no LICENSE file in the tarball (package.json says "license": ${JSON.stringify(manifest.license)})`);

// 7. Relative Markdown links in packed documents that lead outside the tarball (a warning: they work
//    on the repository's web page, not from node_modules).
for (const path of files) {
  if (!path.endsWith('.md')) continue;
  for (const match of read(path).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
    const link = match[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('/')) continue;
    const target = normalize(join(dirname(path), link));
    if (!files.has(target) && ![...files].some((file) => file.startsWith(`${target}/`))) warnings.push(`${path}: links to ${link}, which is not in the tarball`);
  }
}

const size = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
console.log(
  `tarball: ${pack.filename}: ${pack.entryCount} files, ${size(pack.size)} packed, ${size(pack.unpackedSize)} unpacked; ` +
    `${targets.length} manifest targets and ${pointers} relative imports checked`,
);
const folders = new Map();
for (const path of files) {
  const folder = path.includes('/') ? path.split('/').slice(0, 2).join('/').replace(/\/[^/]*\.[^/]*$/, '') : '.';
  folders.set(folder, (folders.get(folder) ?? 0) + 1);
}
console.log(`  ${[...folders].sort().map(([folder, count]) => `${folder} (${count})`).join(', ')}`);
for (const warning of warnings) console.log(`  WARN ${warning}`);
for (const error of errors) console.error(`  FAIL ${error}`);
if (errors.length > 0) {
  console.error(`tarball: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log('tarball: ok');
