#!/usr/bin/env node
// `openai-resilient demo` (and `npx openai-resilient demo`): see ./main.ts.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
