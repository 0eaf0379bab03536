import { crc32, deflateSync } from 'node:zlib';
import { createRandom, hashString } from './create-random.ts';

/** Largest side of a simulated image: real sizes are scaled down to keep responses small. */
export const maxImageSide = 256;

/** `1024x1792` → the size the sim draws, scaled so neither side exceeds 256. */
export function parseImageSize(size: string | undefined): { width: number; height: number } {
  const match = size === undefined ? null : /^(\d+)x(\d+)$/.exec(size);
  if (match === null) return { width: maxImageSide, height: maxImageSide };
  const width = Math.max(1, Number(match[1]));
  const height = Math.max(1, Number(match[2]));
  const scale = Math.min(1, maxImageSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * A real PNG (8-bit RGB) with a pattern derived from the prompt: the same prompt always gives
 * the same picture, different prompts different colours and shapes.
 *
 * @example
 * const png = createPng('a red fox in the snow', 64, 64); // Buffer starting with \x89PNG
 */
export function createPng(prompt: string, width: number, height: number): Buffer {
  const random = createRandom(hashString(prompt));
  const from = hueToRgb(random.next());
  const to = hueToRgb(random.next());
  const accent = hueToRgb(random.next());
  const cx = width * (0.25 + random.next() * 0.5);
  const cy = height * (0.25 + random.next() * 0.5);
  const radius = Math.min(width, height) * (0.15 + random.next() * 0.2);
  const stripe = 4 + random.integer(0, 12);
  const rowLength = 1 + width * 3;
  const raw = Buffer.alloc(rowLength * height);
  for (let y = 0; y < height; y++) {
    const row = y * rowLength;
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const t = (x + y) / Math.max(1, width + height - 2);
      const inCircle = (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
      const inStripe = Math.floor((x - y + height) / stripe) % 5 === 0;
      const offset = row + 1 + x * 3;
      for (let channel = 0; channel < 3; channel++) {
        const base = (from[channel] as number) * (1 - t) + (to[channel] as number) * t;
        const value = inCircle ? (accent[channel] as number) : inStripe ? base * 0.8 : base;
        raw[offset + channel] = Math.round(value);
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function hueToRgb(hue: number): [number, number, number] {
  const sector = hue * 6;
  const x = 1 - Math.abs((sector % 2) - 1);
  const table: Array<[number, number, number]> = [
    [1, x, 0],
    [x, 1, 0],
    [0, 1, x],
    [0, x, 1],
    [x, 0, 1],
    [1, 0, x],
  ];
  const [r, g, b] = table[Math.min(5, Math.floor(sector))] ?? [1, 0, 0];
  return [Math.round(40 + r * 200), Math.round(40 + g * 200), Math.round(40 + b * 200)];
}
