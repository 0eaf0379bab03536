import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../core/index.ts';
import { loadConfigFile } from './load-config.ts';

const directory = mkdtempSync(join(tmpdir(), 'pw-config-bounds-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('a config file with an alias bomb or runaway nesting is a ConfigError naming the file and the limit', () => {
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [previous, name] of [...'abcdefgh'].map((letter, index) => [letter, 'bcdefghi'[index]]))
    bomb.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
  const cases: Array<[string, string, RegExp]> = [
    ['bomb.yaml', bomb.join('\n'), /bomb\.yaml: .*maxAliasCount/],
    [
      'deep.yaml',
      `deployments: ${'['.repeat(200_000)}`,
      /deep\.yaml: .*nests deeper than 64 levels \(maxDepth\)/,
    ],
  ];
  for (const [name, text, message] of cases) {
    const path = join(directory, name);
    writeFileSync(path, text);
    assert.throws(
      () => loadConfigFile(path, {}),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
    );
  }
});
