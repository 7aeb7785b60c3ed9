// The installed version of each package of this folder's lockfile, as results record them.
import { readFileSync } from 'node:fs';

/** `{ name: version }` of the packages `names`, read from this folder's node_modules. */
export const installedVersions = (names) =>
  Object.fromEntries(names.map((name) => [name, JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version]));
