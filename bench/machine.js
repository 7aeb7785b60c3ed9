// What a result was measured on: the machine, the runtime and the versions, recorded in every result file.
import { readFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, totalmem, type } from 'node:os';

const GiB = 1024 ** 3;

/** The machine, Node, openai SDK and library versions, and the time of the measurement. */
export async function machine() {
  const cores = cpus();
  const library = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / GiB) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
    /** 1, 5 and 15 minutes: the machine is shared, and what else runs on it slows every subject. */
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    os: `${type()} ${release()} (${process.platform}/${process.arch})`,
    node: process.version,
    v8: process.versions.v8,
    openai: (await import('openai/version')).VERSION,
    library: `${library.name} ${library.version}`,
    date: new Date().toISOString(),
  };
}
