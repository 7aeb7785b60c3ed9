/**
 * The documentation sample tools (scripts/doc-samples/): which samples are complete programs, and how a
 * sample's run is judged. `npm run docs:run` runs the real documents' samples against the build; these
 * tests need no build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kindOf, runSample, sampleEnv } from '../../scripts/doc-samples/run-sample.mjs';
import { freeNames, readSamples } from '../../scripts/doc-samples/samples.mjs';
import { startFaultServer } from '../../src/testing/index.js';

const root = resolve(import.meta.dirname, '../..');
// Under the repository, so that the samples resolve `openai` from its node_modules.
mkdirSync(join(root, '.cache'), { recursive: true });
const dir = mkdtempSync(join(root, '.cache', 'test-doc-samples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fence = '```';

describe('which samples are complete programs', () => {
  it('counts a name as used only where the code refers to it: not in comments, strings or property names', () => {
    const free = freeNames(
      [
        "import { resilient } from 'openai-resilient';",
        '// the server answers; ai.chat is the client',
        "const text = 'server, ai, faults';",
        'const options = { server: 1, clock: 2 };',
        'const { ai: renamed } = options;',
        'console.log(options.server, text, renamed, `${clock.now()}`, { faults });',
        'function run(params: number) { return params; }',
      ].join('\n'),
    );
    expect([...free].sort()).toEqual(['clock', 'console', 'faults']);
  });

  it('reads the fences of README.md and docs/*.md with their document line, flags and completeness', () => {
    const docsRoot = join(dir, 'docs-root');
    mkdirSync(join(docsRoot, 'docs'), { recursive: true });
    writeFileSync(
      join(docsRoot, 'README.md'),
      ['# Title', '', `${fence}ts`, "import OpenAI from 'openai';", 'const client = new OpenAI();', fence, '', `${fence}sh`, 'npm test', fence, ''].join('\n'),
    );
    writeFileSync(
      join(docsRoot, 'docs', 'guide.md'),
      [`${fence}ts long-running`, "import { createClient } from 'redis';", 'await createClient().connect();', fence, `${fence}ts`, 'await ai.models.list();', fence, `${fence}js`, 'server.reset();', fence, ''].join('\n'),
    );

    const samples = readSamples(docsRoot);

    expect(samples.map(({ where, lang, complete }) => ({ where, lang, complete }))).toEqual([
      { where: 'README.md:3', lang: 'ts', complete: true },
      { where: 'docs/guide.md:1', lang: 'ts', complete: true },
      { where: 'docs/guide.md:5', lang: 'ts', complete: false },
      { where: 'docs/guide.md:8', lang: 'js', complete: false },
    ]);
    expect([...samples[1]!.flags]).toEqual(['long-running']);
    expect(samples[2]!.prelude).toEqual(["declare const ai: import('openai-resilient').ResilientClient<import('openai').OpenAI>;"]);
    // Padded so that the sample's lines are the document's: line 4 of README.md is its first line.
    expect(samples[0]!.code.split('\n')[3]).toBe("import OpenAI from 'openai';");
    expect(kindOf(samples[1]!)).toBe('long-running');
    expect(kindOf({ code: "import { it } from 'vitest';", flags: new Set() })).toBe('vitest');
    expect(kindOf({ code: "import { test } from 'node:test';", flags: new Set() })).toBe('node:test');
    expect(kindOf(samples[0]!)).toBe('program');
  });
});

describe.concurrent('how a sample run is judged', () => {
  const program = (name: string, code: string) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, code);
    return file;
  };
  const env = sampleEnv(process.env);

  it('passes a program that finishes and exits with code 0', async () => {
    const outcome = await runSample({ file: program('ok', "console.log('done');\n"), kind: 'program', env, cwd: root });
    expect(outcome).toMatchObject({ ok: true, output: 'done\n' });
  }, 40_000);

  it('fails a program that throws, with its output', async () => {
    const outcome = await runSample({ file: program('throws', "throw new Error('boom');\n"), kind: 'program', env, cwd: root });
    expect(outcome.ok).toBe(false);
    expect(outcome.note).toBe('exited with code 1 before its top-level code finished');
    expect(outcome.output).toContain('Error: boom');
  }, 40_000);

  it('fails a program that never finishes, once the timeout has passed', async () => {
    const file = program('hangs', 'await new Promise(() => setInterval(() => {}, 1000));\n');
    const outcome = await runSample({ file, kind: 'program', env, cwd: root, timeoutMs: 1000 });
    expect(outcome).toMatchObject({ ok: false, note: 'did not finish within 1 s' });
  }, 40_000);

  it('fails a program whose code finishes but leaves a timer that keeps the process alive', async () => {
    const file = program('leaks', 'setInterval(() => {}, 1000);\n');
    const outcome = await runSample({ file, kind: 'program', env, cwd: root, exitTimeoutMs: 200 });
    expect(outcome.ok).toBe(false);
    expect(outcome.note).toMatch(/^its code finished, but the process did not exit within 0.2 s/);
  }, 40_000);

  it('passes a long-running program once its code has finished, and stops it', async () => {
    const file = program('serves', "setInterval(() => {}, 1000);\nconsole.log('listening');\n");
    const outcome = await runSample({ file, kind: 'long-running', env, cwd: root });
    expect(outcome).toMatchObject({ ok: true, note: 'its top-level code finished; then stopped', output: 'listening\n' });
  }, 40_000);

  it('sends new OpenAI() to the fault server with a dummy key, whatever OPENAI_* the caller has set', async () => {
    const server = await startFaultServer();
    try {
      const file = program('openai', "import OpenAI from 'openai';\nconst page = await new OpenAI().models.list();\nconsole.log(page.data.length > 0);\n");
      const callerEnv = { ...process.env, OPENAI_API_KEY: 'sk-real-key-of-the-caller', OPENAI_BASE_URL: 'https://example.com/v1' };
      const outcome = await runSample({ file, kind: 'program', env: sampleEnv(callerEnv, { openaiOrigin: server.origin }), cwd: root });
      expect(outcome).toMatchObject({ ok: true, output: 'true\n' });
      expect(server.requests.map((request) => [request.path, request.headers['authorization']])).toEqual([['/models', 'Bearer sk-doc-samples-not-a-real-key']]);
    } finally {
      await server.close();
    }
  }, 40_000);

  it('refuses a fetch to any other address: samples run offline', async () => {
    const file = program('network', "await fetch('https://example.com/');\n");
    const outcome = await runSample({ file, kind: 'program', env, cwd: root });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toContain('documentation samples run offline: fetch(https://example.com) refused');
  }, 40_000);

  it('fails a node:test sample whose test fails', async () => {
    const file = program('node-test', "import { test } from 'node:test';\ntest('fails', () => { throw new Error('no'); });\n");
    const outcome = await runSample({ file, kind: 'node:test', env, cwd: root });
    expect(outcome).toMatchObject({ ok: false, note: 'exited with code 1' });
  }, 40_000);
});
