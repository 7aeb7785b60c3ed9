import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import { tokenizerFromEncodings } from '../../src/tokens/tokenizer.js';

/** OpenAI's tokenizer (gpt-tokenizer), as the `openai-resilient/tokens` entry builds it. */
export const tokenizer = tokenizerFromEncodings({ o200k_base: o200k, cl100k_base: cl100k });
