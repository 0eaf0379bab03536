import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { createPng, parseImageSize } from './create-png.ts';

/** Walks the chunks of a PNG, checking every CRC, and returns them. */
function readChunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'PNG signature',
  );
  const chunks: Array<{ type: string; data: Buffer }> = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    assert.equal(
      png.readUInt32BE(offset + 8 + length),
      crc32(png.subarray(offset + 4, offset + 8 + length)),
      `CRC of ${type}`,
    );
    chunks.push({ type, data });
    offset += 12 + length;
  }
  return chunks;
}

describe('createPng', () => {
  it('writes a valid RGB PNG of the asked size', () => {
    const chunks = readChunks(createPng('a red fox in the snow', 40, 24));
    assert.deepEqual(
      chunks.map((chunk) => chunk.type),
      ['IHDR', 'IDAT', 'IEND'],
    );
    const header = chunks[0]?.data ?? Buffer.alloc(0);
    assert.equal(header.readUInt32BE(0), 40);
    assert.equal(header.readUInt32BE(4), 24);
    assert.equal(header[8], 8);
    assert.equal(header[9], 2);
    const pixels = inflateSync(chunks[1]?.data ?? Buffer.alloc(0));
    assert.equal(pixels.length, 24 * (1 + 40 * 3), 'one filter byte and 40 RGB pixels per row');
  });

  it('draws the same picture for the same prompt and another for another prompt', () => {
    assert.deepEqual(createPng('a lighthouse', 16, 16), createPng('a lighthouse', 16, 16));
    assert.notDeepEqual(createPng('a lighthouse', 16, 16), createPng('a submarine', 16, 16));
  });

  it('scales requested sizes down to at most 256 pixels a side', () => {
    assert.deepEqual(parseImageSize('1024x1792'), { width: 146, height: 256 });
    assert.deepEqual(parseImageSize('64x32'), { width: 64, height: 32 });
    assert.deepEqual(parseImageSize('auto'), { width: 256, height: 256 });
    assert.deepEqual(parseImageSize(undefined), { width: 256, height: 256 });
  });
});
