import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSimServer } from '../../src/providers/sim/index.ts';
import { createSqliteStore } from '../../src/store/index.ts';

const masterKey = 'shutdown-test-master-key';

test('pipewright serve: SIGTERM lets in-flight requests finish and flushes telemetry', async () => {
  const sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'pw-serve-'));
  const storePath = join(dir, 'store.db');
  const configPath = join(dir, 'pipewright.yaml');
  writeFileSync(
    configPath,
    [
      'server:',
      '  port: 0',
      '  masterKey: ${TEST_MASTER_KEY}',
      'store:',
      `  path: ${storePath}`,
      'telemetry:',
      '  flushIntervalMs: 60000 # only the shutdown flush can write the record',
      'deployments:',
      '  - id: slow-sim',
      '    provider: sim',
      '    model: gpt-4o-mini',
      `    baseUrl: ${sim.url}/v1`,
      '    apiKey: sim-key',
      '    headers:',
      "      x-sim-fault: 'latency=400'",
      'modelGroups:',
      '  - name: slow',
      '    deployments: [slow-sim]',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['bin/pipewright.js', 'serve', '--config', configPath], {
    env: { ...process.env, TEST_MASTER_KEY: masterKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const lines = createInterface({ input: child.stdout });
    let url: string | undefined;
    for await (const line of lines) {
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg === 'pipewright gateway listening') {
        url = entry.url;
        break;
      }
    }
    assert.ok(url !== undefined, `gateway did not start: ${stderr}`);

    const inFlight = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'finish me please' }] }),
    });
    // Let the request reach the upstream before the signal.
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    const response = await inFlight;
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: unknown[] };
    assert.equal(body.choices.length, 1);
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);

    const store = await createSqliteStore({ path: storePath });
    try {
      const records = await store.callRecords.list({ tenantId: 'default' });
      assert.equal(records.length, 1, 'the record queued during the request was flushed at shutdown');
      assert.equal(records[0]?.outcome, 'success');
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await sim.close();
  }
});

test('pipewright serve: a bad config file exits non-zero naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-serve-bad-'));
  const configPath = join(dir, 'pipewright.yaml');
  writeFileSync(configPath, 'modelGroups:\n  - name: g\n    deployments: [missing]\n');
  const child = spawn(process.execPath, ['bin/pipewright.js', 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PIPEWRIGHT_MASTER_KEY: masterKey },
  });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1);
  assert.match(stderr, /modelGroups\[0\]\.deployments\[0\]: unknown deployment "missing"/);
});
