import type { SdkRequestOptions } from './request-info.js';

/** What the SDK's `makeRequest` resolves to (`APIResponseProps`); the pipeline only swaps `response`. */
export interface ResponseProps {
  response: Response;
  options: SdkRequestOptions;
  controller: AbortController;
  [key: string]: unknown;
}

/** Sends one request through the SDK's own `makeRequest`, with its retries switched off. */
export type SendOnce = (options: SdkRequestOptions) => Promise<ResponseProps>;
