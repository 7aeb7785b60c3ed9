// Every bench case, in the order `npm run bench` runs them and docs/benchmarks.md shows them. A case is
// `{ name, title, run(): Promise<{ targets }>, document(result): { markdown, charts } }`; `run` writes
// bench/results/<name>.json, from which `document` renders its section of the page.
import { budgets } from './budgets.js';
import { cache } from './cache.js';
import { chaos } from './chaos.js';
import { classes } from './classes.js';
import { construction } from './construction.js';
import { drain } from './drain.js';
import { hedge } from './hedge.js';
import { largeEvent } from './large-event.js';
import { memory } from './memory.js';
import { outage } from './outage.js';
import { overhead } from './overhead.js';
import { pool } from './pool.js';
import { recovery } from './recovery.js';
import { redis } from './redis.js';
import { streamRecovery } from './stream-recovery.js';

export const CASES = [overhead, cache, chaos, drain, outage, recovery, pool, memory, construction, hedge, largeEvent, redis, streamRecovery, classes, budgets];
