import type { ImageSize } from './image-size.js';

/**
 * What an image in a prompt costs, by OpenAI's published rules (platform.openai.com/docs/guides/images-vision,
 * "Calculating costs"). Two kinds of model:
 *
 * - tile-based (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3...): `detail: 'low'` costs the base; `high` or
 *   `auto` scales the image to fit 2048×2048, then its shortest side down to 768, and costs the base plus
 *   a price per 512-px tile;
 * - patch-based (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini, gpt-5-nano): 32-px patches, at most
 *   1536 (the image scaled down to fit), times a multiplier.
 *
 * An image of unknown size (a URL, or a format not read) is counted as the most an image can cost: 8
 * tiles (a 768×2048 image), or 1536 patches. `detail: 'low'` on a patch-based model is not documented:
 * counted like `high`.
 *
 * @module
 */

/** Tile-based prices: base tokens and per-tile tokens, by model prefix (longest first). */
const TILES: readonly (readonly [prefix: string, base: number, tile: number])[] = [
  ['gpt-4o-mini', 2833, 5667],
  ['computer-use-preview', 65, 129],
  ['gpt-5', 70, 140],
  ['o1', 75, 150],
  ['o3', 75, 150],
];
/** Tile-based models not listed above (gpt-4o, gpt-4.1, gpt-4.5, and unknown models). */
const DEFAULT_TILES = [85, 170] as const;
/** Patch-based models and their multipliers. */
const PATCHES: readonly (readonly [prefix: string, multiplier: number])[] = [
  ['gpt-4.1-mini', 1.62],
  ['gpt-4.1-nano', 2.46],
  ['gpt-5-mini', 1.62],
  ['gpt-5-nano', 2.46],
  ['o4-mini', 1.72],
];
const PATCH = 32;
const MAX_PATCHES = 1536;
/** The most tiles an image can take (768×2048 after scaling: 2 × 4). */
const MAX_TILES = 8;

/** How much detail the model is asked to see. */
export type ImageDetail = 'low' | 'high' | 'auto';

/** Tokens of one image for `model`; `size` undefined when not known. */
export function imageTokens(model: string | undefined, detail: ImageDetail, size: ImageSize | undefined): number {
  const name = model?.startsWith('ft:') ? model.slice(3) : (model ?? '');
  const patched = PATCHES.find(([prefix]) => name.startsWith(prefix));
  if (patched) return Math.ceil((size ? patches(size) : MAX_PATCHES) * patched[1]);
  const [, base, tile] = TILES.find(([prefix]) => name.startsWith(prefix)) ?? [name, ...DEFAULT_TILES];
  if (detail === 'low') return base;
  return base + tile * (size ? tiles(size) : MAX_TILES);
}

/** 512-px tiles after fitting 2048×2048, then the shortest side to 768 (images are never scaled up). */
export function tiles({ width, height }: ImageSize): number {
  let w = width;
  let h = height;
  if (Math.max(w, h) > 2048) {
    const scale = 2048 / Math.max(w, h);
    w *= scale;
    h *= scale;
  }
  if (Math.min(w, h) > 768) {
    const scale = 768 / Math.min(w, h);
    w *= scale;
    h *= scale;
  }
  return Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** 32-px patches, the image scaled down (keeping its aspect) so that at most 1536 fit. */
export function patches({ width, height }: ImageSize): number {
  const raw = Math.ceil(width / PATCH) * Math.ceil(height / PATCH);
  if (raw <= MAX_PATCHES) return raw;
  const shrink = Math.sqrt((PATCH * PATCH * MAX_PATCHES) / (width * height));
  const w = width * shrink;
  const h = height * shrink;
  const fit = shrink * Math.min(Math.floor(w / PATCH) / (w / PATCH), Math.floor(h / PATCH) / (h / PATCH));
  return Math.min(MAX_PATCHES, Math.ceil((width * fit) / PATCH) * Math.ceil((height * fit) / PATCH));
}
