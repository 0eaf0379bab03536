import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/pipewright.js', import.meta.url).pathname;

test('pipewright demo runs from a fresh folder, says the provider is simulated and summarises every call', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pw-demo-'));
  const child = spawn(process.execPath, [bin, 'demo'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stdout, /SIMULATED/);
  for (const step of [
    'chat (fast)',
    'support-triage',
    'stream',
    'tool call',
    'embeddings',
    'images',
    'provider down',
    'bad request',
  ]) {
    assert.ok(stdout.includes(step), `the summary mentions ${step}`);
  }
  assert.match(stdout, /ends with \[DONE\]/);
  assert.match(stdout, /get_weather\(\{"city":"Lisbon"\}\)/);
  assert.match(stdout, /503 provider\.overloaded/);
  assert.match(stdout, /400 param messages\[0\]\.content/);
  assert.match(stdout, /exact cache \(same question twice\)\s+hit: saved \$0\.\d+/);
  assert.match(stdout, /semantic cache \(reworded question\)\s+semantic-hit, similarity 0\.9\d+/);
  assert.match(stdout, /1 upstream call for 5 callers/);
  assert.match(stdout, /Total: 18 calls, 1 error, \d+ input \+ \d+ output tokens, \$\d\.\d+ \(simulated\)/);
  assert.match(
    stdout,
    /Cache: 9 lookups, hit ratio 11%, semantic hit ratio 11%; saved \$0\.\d+ and \d+\.\d+ s of model time/,
  );
  assert.ok(existsSync(join(cwd, '.pipewright', 'demo.db')), 'the embedded store is under .pipewright/');
});
