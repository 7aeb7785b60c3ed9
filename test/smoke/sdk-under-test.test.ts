import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import OpenAI from 'openai';
import { APIError } from 'openai/error';
import { Stream } from 'openai/streaming';
import { VERSION } from 'openai/version';
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, ResilienceError } from '../../src/index.js';
import { chatParams, harness } from '../support/harness.js';

/**
 * Which copy of `openai` this run loaded. Under .ci/sdk-matrix.sh, OPENAI_SDK_DIR names the copy that
 * vitest.smoke.config.ts resolves `openai` to and OPENAI_EXPECTED_MAJOR its major; in the default suite
 * it is the project's own devDependency. If the alias missed any importer (a test, the harness, or the
 * library's source), the checks below fail instead of the matrix silently testing the default copy.
 */
const sdkDir = process.env['OPENAI_SDK_DIR'];
const expectedMajor = process.env['OPENAI_EXPECTED_MAJOR'];
/** Set by .ci/node-matrix.sh and .ci/sdk-matrix.sh: the `process.version` the test workers must run on. */
const expectedNode = process.env['MATRIX_NODE_VERSION'];
const packageDir = sdkDir ? path.resolve(sdkDir) : path.dirname(createRequire(import.meta.url).resolve('openai'));
const expectedVersion = (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;

describe('the SDK under test', () => {
  it('is the intended copy and major', () => {
    console.info(`openai ${VERSION} (${sdkDir ?? 'devDependency'}) on Node ${process.version}`);
    expect(VERSION).toBe(expectedVersion);
    if (expectedMajor !== undefined) expect(VERSION.split('.')[0]).toBe(expectedMajor);
    if (sdkDir) expect(expectedMajor, 'OPENAI_EXPECTED_MAJOR must be set with OPENAI_SDK_DIR').toBeDefined();
  });

  it('runs on the intended Node', () => {
    if (expectedNode !== undefined) expect(process.version).toBe(expectedNode);
  });

  it("is also the copy the library's source imports (its errors extend this copy's OpenAIError)", () => {
    const error = new DeadlineExceededError(1000, 1);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
  });

  it('is one module graph: the main entry and the subpaths share their classes', async () => {
    expect(OpenAI.APIError).toBe(APIError);
    const { raw, ai } = await harness();
    expect(raw.constructor).toBe(OpenAI);
    expect(ai).toBeInstanceOf(OpenAI);
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
    expect(stream).toBeInstanceOf(Stream);
    for await (const _chunk of stream);
  });
});
