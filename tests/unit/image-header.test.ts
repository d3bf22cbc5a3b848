import { deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { declaredSize } from '../../src/screening/image-header';
import { faceFixture } from '../fixtures/faces';

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >> 8) & 255];
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const box = (type: string, body: number[]) => [...be32(8 + body.length), ...Buffer.from(type), ...body];

/** A complete, tiny PNG that declares `width`×`height` (its one IDAT row would decode to gigabytes). */
export function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => Buffer.concat([Buffer.from(be32(data.length)), Buffer.from(type), data, Buffer.alloc(4)]);
  const ihdr = Buffer.from([...be32(width), ...be32(height), 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('declared image size', () => {
  it('reads a real PNG fixture', () => {
    expect(declaredSize(readFileSync(faceFixture('astronaut.png')))).toEqual({ format: 'png', width: 512, height: 512 });
  });

  it('reads what a decompression bomb declares, from a few hundred bytes', () => {
    const bomb = bombPng(40000, 40000);
    expect(bomb.length).toBeLessThan(200);
    expect(declaredSize(bomb)).toEqual({ format: 'png', width: 40000, height: 40000 });
  });

  it('JPEG: the frame header after an EXIF segment, skipping DHT', () => {
    const app1 = [0xff, 0xe1, ...[0, 20], ...Array(18).fill(0)];
    const dht = [0xff, 0xc4, 0, 4, 0, 0];
    const sof2 = [0xff, 0xc2, 0, 17, 8, ...[0x0b, 0xb8], ...[0x0f, 0xa0], 3, ...Array(9).fill(0)];
    expect(declaredSize(Uint8Array.from([0xff, 0xd8, ...app1, ...dht, ...sof2, 0xff, 0xda]))).toEqual({ format: 'jpeg', width: 4000, height: 3000 });
    expect(declaredSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0, 0, 0, 0, 0]))).toBeNull();
  });

  it('GIF, BMP (bottom-up height), WebP VP8X / VP8L / VP8', () => {
    expect(declaredSize(Uint8Array.from([...Buffer.from('GIF89a'), ...le16(300), ...le16(200)]))).toEqual({ format: 'gif', width: 300, height: 200 });
    const bmp = [...Buffer.from('BM'), ...Array(16).fill(0), ...le32(640), ...le32(-480 >>> 0), 0, 0];
    expect(declaredSize(Uint8Array.from(bmp))).toEqual({ format: 'bmp', width: 640, height: 480 });
    const riff = (chunk: string, body: number[]) =>
      Uint8Array.from([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBP'), ...Buffer.from(chunk), 0, 0, 0, 0, ...body, ...Array(8).fill(0)]);
    expect(declaredSize(riff('VP8X', [0, 0, 0, 0, ...[0x3f, 0x9c, 0], ...[0xff, 0x9f, 0]]))).toEqual({ format: 'webp', width: 40000, height: 40960 });
    const bits = (1999 | (999 << 14)) >>> 0;
    expect(declaredSize(riff('VP8L', [0x2f, ...le32(bits)]))).toEqual({ format: 'webp', width: 2000, height: 1000 });
    expect(declaredSize(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(1024), ...le16(768)]))).toEqual({ format: 'webp', width: 1024, height: 768 });
  });

  it('HEIF: the largest ispe in meta/iprp/ipco', () => {
    const ispe = (w: number, h: number) => box('ispe', [0, 0, 0, 0, ...be32(w), ...be32(h)]);
    const file = [
      ...box('ftyp', [...Buffer.from('heic'), 0, 0, 0, 0, ...Buffer.from('mif1')]),
      ...box('meta', [0, 0, 0, 0, ...box('iprp', box('ipco', [...ispe(512, 512), ...ispe(4032, 3024)]))]),
    ];
    expect(declaredSize(Uint8Array.from(file))).toEqual({ format: 'heif', width: 4032, height: 3024 });
  });

  it('unknown or cut-short headers give null', () => {
    expect(declaredSize(Buffer.from('This is not a photo'))).toBeNull();
    expect(declaredSize(bombPng(10, 10).subarray(0, 20))).toBeNull();
  });
});
