// Case "chat-continuation" (issue 25, chat half of its `stream-recovery` targets): 200 chat streams against
// the fault server, 20% of them failing at a random point mid-text (half a cut connection, half an SSE
// `error` event), read with `streaming: { continuation: 'prefix' }` and, as the control, without it. The
// fault server answers a continuation with the rest of its deterministic numbered answer (`w1 w2 ... wN`),
// so every spliced text can be checked word for word: no span twice, none missing. With continuation off,
// nothing may change: the same failures, one request per stream.
import OpenAI from 'openai';
import { partialOutputOf, resilient } from '../dist/index.js';
import { faults, startFaultServer } from '../dist/testing/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { checkTarget, markdownTable, pct, reportTargets, round } from './report.js';

const STREAMS = 200;
const FAILING = 0.2;
const WORDS = 40;
const SEED = 25;
const TARGETS = { complete: 0.99, exact: 1, requestsOff: 1 };
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } };

const answer = Array.from({ length: WORDS }, (_, i) => `w${i + 1}`).join(' ');

/** The streams' scripts: which fail, where, and how (the same draws for both subjects). */
function plan() {
  const random = seededRandom(SEED);
  return Array.from({ length: STREAMS }, () => {
    if (random() >= FAILING) return undefined;
    const at = 1 + Math.floor(random() * (WORDS - 2)); // after 1 to WORDS - 2 words: mid-text
    return { at, how: random() < 0.5 ? 'drop' : 'error' };
  });
}

/** Runs every stream of `streams` one after the other through `ai`; what each delivered. */
async function runAll(continuation, streams) {
  const server = await startFaultServer();
  const ai = resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 }), {
    retry: { budget: false },
    streaming: { continuation },
  });
  let continued = 0;
  ai.resilience.on('streamContinued', () => continued++);
  const outcomes = [];
  try {
    for (const failure of streams) {
      server.reset();
      const base = { chunks: WORDS, words: 'numbered' };
      if (failure) server.enqueue(faults.stream({ ...base, ...(failure.how === 'drop' ? { dropAfter: failure.at } : { errorAfter: failure.at }) }));
      server.enqueue(faults.stream(base));
      let text = '';
      let usage;
      let error;
      try {
        for await (const chunk of await ai.chat.completions.create(PARAMS)) {
          text += chunk.choices[0]?.delta.content ?? '';
          if (chunk.usage) usage = chunk.usage;
        }
      } catch (caught) {
        error = caught;
      }
      outcomes.push({
        failing: failure !== undefined,
        complete: error === undefined,
        exact: text === answer,
        requests: server.requests.length,
        completionTokens: usage?.completion_tokens,
        partialMatches: error === undefined || partialOutputOf(error)?.text === text,
      });
    }
  } finally {
    await server.close();
  }
  return { outcomes, continued };
}

function summary({ outcomes, continued }) {
  const failing = outcomes.filter((o) => o.failing);
  const complete = outcomes.filter((o) => o.complete);
  return {
    streams: outcomes.length,
    failing: failing.length,
    complete: complete.length / outcomes.length,
    failingComplete: failing.length === 0 ? 1 : failing.filter((o) => o.complete).length / failing.length,
    exact: complete.length === 0 ? 1 : complete.filter((o) => o.exact).length / complete.length,
    usageWhole: complete.filter((o) => o.completionTokens === WORDS).length / Math.max(1, complete.length),
    partialsKept: outcomes.filter((o) => o.partialMatches).length / outcomes.length,
    requestsPerStream: outcomes.reduce((sum, o) => sum + o.requests, 0) / outcomes.length,
    continued,
  };
}

export const chatContinuation = {
  name: 'chat-continuation',
  title: 'chat continuation: 200 chat streams, 20% failing mid-text, continued (streaming.continuation) and not',
  async run() {
    console.log(`\n== chat-continuation: ${STREAMS} chat streams of ${WORDS} numbered words, ${pct(FAILING, 0)} failing mid-text (cut or error event); continuation 'prefix' vs off`);
    const streams = plan();
    const on = summary(await runAll('prefix', streams));
    const off = summary(await runAll(false, streams));
    const row = (s) => ({
      complete: pct(s.complete),
      'failing streams complete': pct(s.failingComplete),
      'complete and word for word': pct(s.exact),
      'usage counts the whole answer': pct(s.usageWhole),
      'requests / stream': round(s.requestsPerStream, 3),
      continued: s.continued,
    });
    console.table({ 'continuation: prefix': row(on), 'continuation: off': row(off) });
    const targets = [
      checkTarget('continuation on: streams complete', on.complete, { atLeast: TARGETS.complete, format: (v) => pct(v) }),
      checkTarget('continuation on: complete texts word for word (no span twice, none missing)', on.exact, { atLeast: TARGETS.exact, format: (v) => pct(v) }),
      checkTarget('continuation off: requests per stream (nothing changes)', off.requestsPerStream, { atMost: TARGETS.requestsOff, format: (v) => v.toFixed(3) }),
      checkTarget('continuation off: failures carry what arrived', off.partialsKept, { atLeast: 1, format: (v) => pct(v) }),
    ];
    return reportTargets('chat-continuation', 'chat-continuation targets:', targets, {
      case: 'chat-continuation',
      config: { streams: STREAMS, failing: FAILING, words: WORDS, seed: SEED, strategy: 'prefix', request: PARAMS },
      notes: [
        'One stream at a time against a loopback fault server; the failing streams and their failure points are drawn once (seeded) and used for both subjects.',
        "A failing stream is cut (dropAfter) or sends an SSE error event (errorAfter) after 1 to WORDS - 2 words; its continuation is the fault server's deterministic rest of the answer.",
        'exact: the text the caller read equals w1 ... wN exactly.',
      ],
      on,
      off,
    });
  },

  document(result) {
    const row = (name, s) => [name, pct(s.complete), pct(s.failingComplete), pct(s.exact), pct(s.usageWhole), s.requestsPerStream.toFixed(3)];
    return {
      markdown: [
        `${result.config.streams} Chat Completions streams of ${result.config.words} numbered words (\`faults.stream({ words: 'numbered' })\`), ` +
          `${pct(result.config.failing, 0)} of them failing at a random point mid-text (half a cut connection, half an SSE \`error\` event), ` +
          "read one after the other from the fault server with `streaming: { continuation: 'prefix' }` and without it. The fault server " +
          'answers a continuation with the rest of its deterministic answer, so each text read is checked word for word.',
        '',
        markdownTable(['', 'complete', 'failing streams complete', 'complete and word for word', 'usage counts the whole answer', 'requests per stream'], [
          row("continuation `'prefix'`", result.on),
          row('continuation off', result.off),
        ]),
      ].join('\n'),
      charts: {},
    };
  },
};
