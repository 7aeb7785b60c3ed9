import { describe, expect, it } from 'vitest';
import { isHtml, isJsonMediaType, mediaTypeOf } from '../../src/responses/media-type.js';

describe('media types', () => {
  it('reads the media type without its parameters, in lower case', () => {
    expect(mediaTypeOf(new Headers({ 'content-type': 'Application/JSON; charset=utf-8' }))).toBe('application/json');
    expect(mediaTypeOf(new Headers())).toBe('');
  });

  it('tells JSON as the SDK does', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('application/problem+json')).toBe(true);
    expect(isJsonMediaType('text/plain')).toBe(false);
  });

  it('tells an HTML page: declared, or undeclared and starting like one', () => {
    expect(isHtml('text/html', '')).toBe(true);
    expect(isHtml('application/xhtml+xml', '<?xml version="1.0"?>')).toBe(true);
    expect(isHtml('', '  <!DOCTYPE html>\n<html>')).toBe(true);
    expect(isHtml('', '<html lang="en">')).toBe(true);
    expect(isHtml('', 'Hello <html> tags')).toBe(false);
    expect(isHtml('text/plain', '<html>')).toBe(false);
    expect(isHtml('application/json', '<html>')).toBe(false);
  });
});
