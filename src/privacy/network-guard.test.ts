import { describe, expect, it } from 'vitest';
import { blockedRequests, installNetworkGuard, isSameOrigin } from './network-guard';
import { requestUrl } from '../../tests/unit/fixtures/request-url';

describe('network guard', () => {
  it('tells same-origin URLs from others', () => {
    const o = 'http://localhost:4173';
    expect(isSameOrigin('/models/demo/model.onnx', o)).toBe(true);
    expect(isSameOrigin('http://localhost:4173/x', o)).toBe(true);
    expect(isSameOrigin('blob:http://localhost:4173/abc', o)).toBe(true);
    expect(isSameOrigin('https://odml.pa.googleapis.com/v1/log', o)).toBe(false);
    expect(isSameOrigin('http://localhost:5173/', o)).toBe(false);
  });

  it('refuses a fetch to another origin without calling the network, and passes same-origin ones through', async () => {
    const calls: string[] = [];
    const scope = {
      location: { origin: 'http://localhost:4173' },
      fetch: async (input: RequestInfo | URL) => {
        calls.push(requestUrl(input));
        return new Response('ok');
      },
      navigator: {},
    } as unknown as typeof globalThis;
    installNetworkGuard(scope);
    await expect(scope.fetch('https://odml.pa.googleapis.com/v1/log', { method: 'POST' })).rejects.toThrow(/nothing leaves this device/);
    expect(calls).toEqual([]);
    expect(blockedRequests().at(-1)?.origin).toBe('https://odml.pa.googleapis.com');
    await expect((await scope.fetch('/models/demo/manifest.json')).text()).resolves.toBe('ok');
    expect(calls).toEqual(['/models/demo/manifest.json']);
  });
});

describe('network guard: every channel', () => {
  /** A worker-like scope with recording stand-ins for each channel. */
  function scope() {
    const sent: string[] = [];
    class XHR {
      open(_method: string, url: string | URL) {
        sent.push(`xhr ${url}`);
      }
    }
    class Socket {
      constructor(readonly url: string | URL) {
        sent.push(`socket ${url}`);
      }
    }
    class Events {
      constructor(readonly url: string | URL) {
        sent.push(`events ${url}`);
      }
    }
    const s = {
      location: { origin: 'http://localhost:4173', href: 'http://localhost:4173/' },
      fetch: async () => new Response(''),
      navigator: {},
      XMLHttpRequest: XHR,
      WebSocket: Socket,
      EventSource: Events,
      importScripts: (...urls: string[]) => urls.forEach((u) => sent.push(`import ${u}`)),
    } as unknown as typeof globalThis & { importScripts: (...urls: string[]) => void };
    installNetworkGuard(s);
    installNetworkGuard(s); // idempotent
    return { s, sent };
  }

  it('refuses XMLHttpRequest, WebSocket, EventSource and importScripts to other origins before anything is sent', () => {
    const { s, sent } = scope();
    expect(() => new s.XMLHttpRequest().open('POST', 'https://tracker.example/collect')).toThrow(/nothing leaves this device/);
    expect(() => new s.WebSocket('wss://tracker.example/socket')).toThrow(/nothing leaves this device/);
    expect(() => new s.EventSource('https://tracker.example/events')).toThrow(/nothing leaves this device/);
    expect(() => s.importScripts('/vendor/ort/x.js', 'https://cdn.example/lib.js')).toThrow(/nothing leaves this device/);
    expect(sent).toEqual([]);
    expect(
      blockedRequests()
        .slice(-4)
        .map((b) => b.origin),
    ).toEqual(['https://tracker.example', 'wss://tracker.example', 'https://tracker.example', 'https://cdn.example']);
  });

  it('lets the same channels reach this origin', () => {
    const { s, sent } = scope();
    new s.XMLHttpRequest().open('GET', '/models/demo/manifest.json');
    const socket = new s.WebSocket('ws://localhost:4173/live');
    new s.EventSource('/events');
    s.importScripts('/vendor/ort/x.js');
    expect(sent).toEqual(['xhr /models/demo/manifest.json', 'socket ws://localhost:4173/live', 'events /events', 'import /vendor/ort/x.js']);
    expect(socket).toBeInstanceOf(s.WebSocket);
  });
});
