/* global console, process, URL */
/**
 * The core (`src/index.ts`) must bundle for browsers: esbuild with `platform: 'browser'` and no
 * externals for Node builtins. A Node builtin anywhere in its module graph fails the build; this names
 * the import chain from `src/index.ts` to it. A free reference to a Node-only global (`process`,
 * `Buffer`, `require`, `__dirname`...) in the bundled core is reported too: esbuild does not flag those,
 * and they would throw at run time in a browser.
 *
 * `node test/browser/core-bundle.mjs` runs it alone; `run.mjs` runs it before the browser test.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CORE_ENTRY = 'src/index.ts';
const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const NODE_GLOBALS = /(?<![.\w$])(process|Buffer|__dirname|__filename|require|global|setImmediate)(?![\w$])(?!\s*:)/g;

/** esbuild options for a browser bundle of this repository (shared with run.mjs's page bundle). */
export const browserBuild = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  write: false,
  metafile: true,
  logLevel: 'silent',
};

/** For each input importing a Node builtin, the chain of imports from the entry to it. */
function builtinChains(metafile, entry) {
  const parents = new Map([[entry, null]]);
  const queue = [entry];
  const chains = [];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const imp of metafile.inputs[file]?.imports ?? []) {
      if (imp.external && NODE_BUILTINS.includes(imp.path)) {
        const chain = [imp.path];
        for (let at = file; at !== null; at = parents.get(at)) chain.unshift(at);
        chains.push(`${chain.join(' -> ')} (${imp.kind})`);
      } else if (!imp.external && !parents.has(imp.path)) {
        parents.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  return chains;
}

/**
 * References to Node-only globals in the (unminified) bundle `code`, outside comments, by module (from
 * esbuild's `// path` markers): `{ own, deps }`, own modules (`src/`) apart from dependencies.
 */
function nodeGlobalRefs(code) {
  const own = [];
  const deps = [];
  let module = '?';
  let inComment = false;
  for (const [i, raw] of code.split('\n').entries()) {
    const marker = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(raw);
    if (marker) {
      module = marker[1];
      continue;
    }
    let line = raw;
    if (inComment) {
      const end = line.indexOf('*/');
      if (end < 0) continue;
      line = line.slice(end + 2);
      inComment = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const open = line.indexOf('/*');
    if (open >= 0) {
      line = line.slice(0, open);
      inComment = true;
    }
    line = line.replace(/^\s*\/\/.*$/, '');
    for (const m of line.matchAll(NODE_GLOBALS)) {
      // A line that checks `typeof <global>` first is guarded: it does not throw in a browser.
      if (module.startsWith('src/') && line.includes(`typeof ${m[1]}`)) continue;
      const ref = `${m[1]} in ${module} (bundle line ${i + 1}): ${raw.trim().slice(0, 100)}`;
      (module.startsWith('src/') ? own : deps).push(ref);
    }
  }
  return { own, deps };
}

async function bundle(options) {
  try {
    return { result: await esbuild.build({ ...browserBuild, ...options }) };
  } catch (error) {
    return { error };
  }
}

/**
 * Bundles the core for the browser and returns `{ ok, lines }` (lines to print). The SDK is a peer
 * dependency, so the core's own size is measured with `openai` external, and the total with it bundled.
 */
export async function checkCoreBundle(entry = CORE_ENTRY) {
  const lines = [];
  let ok = true;

  const strict = await bundle({ entryPoints: [entry], external: ['openai', 'openai/*'] });
  if (strict.error) {
    ok = false;
    lines.push(`core bundle (platform browser): FAILED`);
    for (const e of strict.error.errors ?? [strict.error]) {
      lines.push(`  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text ?? e.message}`);
    }
    const lax = await bundle({ entryPoints: [entry], external: ['openai', 'openai/*', ...NODE_BUILTINS] });
    if (lax.result) {
      const key = Object.values(lax.result.metafile.outputs)[0].entryPoint;
      for (const chain of builtinChains(lax.result.metafile, key)) lines.push(`  Node builtin pulled in: ${chain}`);
    }
    return { ok, lines };
  }

  const code = strict.result.outputFiles[0].text;
  const refs = nodeGlobalRefs(code);
  if (refs.own.length > 0) {
    ok = false;
    lines.push(`core bundle: ${refs.own.length} reference(s) to Node-only globals in src/ (they throw in a browser):`);
    for (const ref of refs.own.slice(0, 20)) lines.push(`  ${ref}`);
  }
  if (refs.deps.length > 0) {
    // Dependencies guard theirs (typeof checks): listed, not failed; the browser run is the proof.
    const distinct = [...new Set(refs.deps.map((r) => r.replace(/ \(bundle line \d+\)/, '')))];
    lines.push(`core bundle: note: ${distinct.length} guarded reference(s) to Node globals in dependencies:`);
    for (const ref of distinct) lines.push(`  ${ref}`);
  }
  const min = await bundle({ entryPoints: [entry], external: ['openai', 'openai/*'], minify: true });
  const all = await bundle({ entryPoints: [entry], minify: true });
  if (min.error || all.error) {
    ok = false;
    lines.push(`core bundle (minified): FAILED: ${(min.error ?? all.error).message}`);
    return { ok, lines };
  }
  const minText = min.result.outputFiles[0].contents;
  const allText = all.result.outputFiles[0].contents;
  const inputs = Object.keys(strict.result.metafile.inputs).filter((f) => f.startsWith('src/')).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  lines.push(
    `core bundle (platform browser, no Node builtins): ok, ${inputs} modules; ` +
      `${kb(minText.length)} minified / ${kb(gzipSync(minText).length)} gzip without openai, ` +
      `${kb(allText.length)} / ${kb(gzipSync(allText).length)} with openai bundled`,
  );
  return { ok, lines };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ok, lines } = await checkCoreBundle(process.argv[2]);
  for (const line of lines) console.log(line);
  process.exitCode = ok ? 0 : 1;
}
