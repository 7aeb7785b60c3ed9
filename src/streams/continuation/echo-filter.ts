type Json = Record<string, unknown>;

/**
 * Drops a continuation's echo of the partial answer it continues: a provider that answers a prefix
 * request with the prefix and then the rest (the whole message) would otherwise have the caller read the
 * partial answer twice. Chunks are held while their text is still the start of `echo`: if the text then
 * covers all of it, the echoed part is dropped and the rest goes on; as soon as it differs (a provider
 * that sends only the rest, as DeepSeek and vLLM do), what was held goes on unchanged. A continuation that
 * truly starts with the whole partial answer again is taken for an echo: with a partial answer of more
 * than a few words, that is what an echo is.
 */
export class EchoFilter {
  #echo: string | undefined;
  #matched = '';
  #held: Json[] = [];

  constructor(echo: string) {
    this.#echo = echo === '' ? undefined : echo;
  }

  /** The chunks to hand on now (`chunk`, or those held before it with it, or none yet), in order. */
  take(chunk: Json): Json[] {
    const echo = this.#echo;
    if (echo === undefined) return [chunk];
    const content = soleContent(chunk);
    if (content === undefined) return [...this.flush(), chunk];
    if (content === '') {
      this.#held.push(chunk);
      return [];
    }
    const text = this.#matched + content;
    if (echo.startsWith(text)) {
      if (text.length === echo.length) this.#drop();
      else {
        this.#matched = text;
        this.#held.push(chunk);
      }
      return [];
    }
    if (text.startsWith(echo)) {
      this.#drop();
      setContent(chunk, text.slice(echo.length));
      return [chunk];
    }
    return [...this.flush(), chunk];
  }

  /** Something else than text came, or the stream ended: what was held goes on unchanged, and nothing more is held. */
  flush(): Json[] {
    const held = this.#held;
    this.#held = [];
    this.#echo = undefined;
    return held;
  }

  /** The held chunks were the echo: dropped. */
  #drop(): void {
    this.#held = [];
    this.#echo = undefined;
  }
}

/**
 * The text of a chunk that carries nothing but text for its one choice (`''` for none); `undefined` for a
 * chunk with anything else (a finish, a tool call, a refusal, usage, several choices).
 */
function soleContent(chunk: Json): string | undefined {
  const choices = chunk['choices'] as unknown[];
  if (choices.length !== 1 || (typeof chunk['usage'] === 'object' && chunk['usage'] !== null)) return undefined;
  const choice = choices[0] as Json | null;
  if (typeof choice !== 'object' || choice === null || (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined)) return undefined;
  const delta = choice['delta'];
  if (typeof delta !== 'object' || delta === null) return undefined;
  let content = '';
  for (const [key, value] of Object.entries(delta)) {
    if (key === 'content' && typeof value === 'string') content = value;
    else if (value !== null && value !== undefined) return undefined;
  }
  return content;
}

function setContent(chunk: Json, content: string): void {
  ((chunk['choices'] as Json[])[0]!['delta'] as Json)['content'] = content;
}
