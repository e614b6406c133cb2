import { describe, expect, it } from 'vitest';
import { gatewayUrl } from './useLiveClient';

describe('gatewayUrl', () => {
  it('follows the page: ws beside http, wss beside https', () => {
    expect(gatewayUrl({ protocol: 'http:', host: '127.0.0.1:8741' })).toBe('ws://127.0.0.1:8741/ws');
    expect(gatewayUrl({ protocol: 'https:', host: 'tv.example' })).toBe('wss://tv.example/ws');
  });
});
