import { dataUrlImageSize } from './image-size.js';
import { imageTokens, type ImageDetail } from './image-tokens.js';

/** Counts a text in the request's encoding. */
export type CountText = (text: string) => number;

/**
 * Tokens of a message's content, in either API's shape: a string, or parts. Text parts (`text`,
 * `input_text`, `output_text`) and refusals count as text; images (`image_url`, `input_image`) by
 * {@link imageTokens}, their size read from a `data:` URL when it holds one. Audio and files are not
 * counted, and no base64 is ever tokenized as text.
 */
export function contentTokens(content: unknown, model: string | undefined, count: CountText): number {
  if (typeof content === 'string') return textTokens(content, count);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content) {
    if (typeof part !== 'object' || part === null) continue;
    const { type, text, refusal } = part as Record<string, unknown>;
    if (type === 'image_url' || type === 'input_image') tokens += partImageTokens(part as Record<string, unknown>, model);
    else if (typeof text === 'string') tokens += textTokens(text, count);
    else if (typeof refusal === 'string') tokens += textTokens(refusal, count);
  }
  return tokens;
}

/** A string's tokens; a `data:` URL (base64 of a file or image) is not text and counts nothing. */
export function textTokens(text: string, count: CountText): number {
  return text.startsWith('data:') ? 0 : count(text);
}

/** Chat Completions: `{ image_url: { url, detail } }`; Responses: `{ image_url, detail }` (or a `file_id`). */
function partImageTokens(part: Record<string, unknown>, model: string | undefined): number {
  const image = part['image_url'];
  const nested = typeof image === 'object' && image !== null ? (image as Record<string, unknown>) : undefined;
  const url = nested ? nested['url'] : image;
  const detail = (nested ? nested['detail'] : part['detail']) === 'low' ? 'low' : ('high' satisfies ImageDetail);
  return imageTokens(model, detail, typeof url === 'string' ? dataUrlImageSize(url) : undefined);
}
