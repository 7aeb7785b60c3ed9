import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vitest/config';

/**
 * For the matrix configs (vitest.smoke.config.ts, vitest.redis.config.ts): makes every import of `name`
 * and `name/<subpath>`, from any importer, resolve into the copy installed at `dir`
 * (`<prefix>/node_modules/<name>`), and fails the run if one resolves anywhere else. Without `dir` the
 * project's own devDependency is used and there is no plugin.
 *
 * The imports are resolved as bare imports made from `dir`/package.json (a file that exists, so vite looks
 * in the node_modules above it): the package's "exports" map and the import conditions then apply exactly
 * as for the default copy. A plain `resolve.alias` to the package directory is not enough: vite then takes
 * the package's "main" (for openai, the CommonJS index.js) for the bare name but the ESM files for
 * subpaths, i.e. two copies of every class (`instanceof Stream` fails).
 */
export function packageUnderTest(name: string, dir: string | undefined, config: string): Plugin[] {
  if (!dir) return [];
  const root = path.resolve(dir);
  const manifest = path.join(root, 'package.json');
  if (path.basename(path.dirname(root)) !== 'node_modules') throw new Error(`${config}: ${root} must be <prefix>/node_modules/${name}`);
  if (!existsSync(manifest) || (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name !== name) {
    throw new Error(`${config}: ${root} is not an installed ${name} package`);
  }
  return [
    {
      name: `${name}-under-test`,
      enforce: 'pre',
      async resolveId(source, _importer, options) {
        if (source !== name && !source.startsWith(`${name}/`)) return null;
        const resolved = await this.resolve(source, manifest, { ...options, skipSelf: true });
        if (!resolved || !resolved.id.startsWith(root + path.sep)) {
          throw new Error(`${config}: '${source}' resolved to ${resolved?.id ?? 'nothing'}, outside ${root}`);
        }
        return resolved;
      },
    },
  ];
}
