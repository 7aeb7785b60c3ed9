import { eventName } from '../responses/event-role.js';
import type { SseEvent } from '../responses/sse-scanner.js';
import { OutputBuilder } from './output-builder.js';
import type { PartialOutput } from './partial-output.js';

/**
 * Held event text, in UTF-16 code units, past which the held events are assembled and let go: a long
 * stream then holds its output (its deltas), not every event it received. About 1,000 chat chunks;
 * assembling them takes about 1 ms.
 */
export const HELD_EVENTS_LIMIT = 256 * 1024;

/**
 * What a stream has received, kept so that a failure can say what arrived (`partial-output.ts`). It runs
 * on every event of every stream, so it only keeps each event's text (the string the scanner made): the
 * events are parsed and assembled when a failed stream's output is asked for, or once they add up to
 * {@link HELD_EVENTS_LIMIT}. A stream that ends well costs an array push per event.
 *
 * Kept: chat and legacy completions chunks (events without a name) and Responses events (`response.*`);
 * not the events of other streams (Images, Assistants), which are not assembled.
 */
export class ReceivedOutput {
  #held: string[] = [];
  #heldLength = 0;
  #builder: OutputBuilder | undefined;
  #usage: object | undefined;
  #frozen = false;
  /** A failure carries the output: it is kept until asked for. */
  #kept = false;

  /** An event the caller receives (a lifecycle or content event: not an error, not the terminal event). */
  add(event: SseEvent): void {
    if (this.#frozen) return;
    const name = eventName(event);
    if (name !== undefined && !name.startsWith('response.')) return;
    const { data } = event;
    this.#held.push(data);
    this.#heldLength += data.length;
    if (this.#heldLength > HELD_EVENTS_LIMIT) this.#fold();
  }

  /** The usage an event reported (parsed by the guard already). */
  usage(usage: object): void {
    if (!this.#frozen) this.#usage = usage;
  }

  /**
   * Freezes what was received for a failure to carry (nothing after it is added: after an error event, the
   * SDK raises its error). The returned function assembles it, once; `chunks` is the number of events the
   * stream delivered.
   */
  keep(chunks: number): () => PartialOutput | undefined {
    this.#frozen = true;
    this.#kept = true;
    let assembled: { value: PartialOutput | undefined } | undefined;
    return () => {
      if (!assembled) {
        this.#fold();
        assembled = { value: this.#builder?.result(chunks, this.#usage) };
      }
      return assembled.value;
    };
  }

  /**
   * The failure that froze it was recovered from (a resume, a continuation): the stream goes on, and what
   * arrives next is added again.
   */
  thaw(): void {
    this.#frozen = false;
    this.#kept = false;
  }

  /** The stream ended and no failure carries its output: what was received is let go. */
  release(): void {
    if (this.#kept) return;
    this.#frozen = true;
    this.#held = [];
    this.#heldLength = 0;
    this.#builder = undefined;
  }

  #fold(): void {
    if (this.#held.length === 0) return;
    const builder = (this.#builder ??= new OutputBuilder());
    for (const data of this.#held) builder.take(data);
    this.#held = [];
    this.#heldLength = 0;
  }
}
