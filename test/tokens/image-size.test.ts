import { describe, expect, it } from 'vitest';
import { dataUrlImageSize } from '../../src/tokens/image-size.js';

const dataUrl = (mime: string, bytes: number[]) => `data:${mime};base64,${btoa(String.fromCharCode(...bytes))}`;
const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u16le = (n: number) => [n & 255, (n >>> 8) & 255];
const u24le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];

describe('dataUrlImageSize', () => {
  it('reads PNG, GIF and WebP headers', () => {
    const png = [0x89, ...ascii('PNG'), 13, 10, 26, 10, 0, 0, 0, 13, ...ascii('IHDR'), ...u32be(1920), ...u32be(1080), 8, 6, 0, 0, 0];
    expect(dataUrlImageSize(dataUrl('image/png', png))).toEqual({ width: 1920, height: 1080 });
    const gif = [...ascii('GIF89a'), ...u16le(300), ...u16le(200), 0, 0, 0];
    expect(dataUrlImageSize(dataUrl('image/gif', gif))).toEqual({ width: 300, height: 200 });
    const webp = [...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBPVP8X'), 10, 0, 0, 0, 0, 0, 0, 0, ...u24le(799), ...u24le(599), 0, 0];
    expect(dataUrlImageSize(dataUrl('image/webp', webp))).toEqual({ width: 800, height: 600 });
  });

  it('walks JPEG segments to the frame header', () => {
    const app0 = [0xff, 0xe0, 0, 16, ...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    const sof0 = [0xff, 0xc0, 0, 17, 8, 0, 100, 0, 200, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
    expect(dataUrlImageSize(dataUrl('image/jpeg', [0xff, 0xd8, ...app0, ...sof0]))).toEqual({ width: 200, height: 100 });
  });

  it('an https URL, a non-base64 data URL, or bytes of no known format have no size', () => {
    expect(dataUrlImageSize('https://example.com/a.png')).toBeUndefined();
    expect(dataUrlImageSize('data:image/svg+xml,<svg/>')).toBeUndefined();
    expect(dataUrlImageSize(dataUrl('image/png', ascii('not an image at all, really')))).toBeUndefined();
    expect(dataUrlImageSize('data:image/png;base64,!!!!')).toBeUndefined();
  });
});
