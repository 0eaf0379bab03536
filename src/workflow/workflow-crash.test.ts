import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSqliteStore } from '../store/index.ts';
import { crashFlow, crashFunctions } from './__fixtures__/crash-flow.ts';
import { createWorkflowRunner } from './workflow-runner.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-crash-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('kill -9 mid-run, then resume: succeeded nodes and finished map items do not run again', async () => {
  const path = join(directory, 'crash.db');
  const logPath = join(directory, 'calls.log');
  const runId = 'run_crash_test';
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./__fixtures__/crash-child.ts', import.meta.url).pathname,
      path,
      logPath,
      runId,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('hanging')) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`the child exited (${String(code)}) before hanging: ${stderr}`)),
    );
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const store = await createSqliteStore({ path });
  const runner = createWorkflowRunner({
    store: store.workflows,
    functions: crashFunctions(logPath, undefined),
    workflows: [crashFlow],
  });
  try {
    const before = await runner.get(runId);
    assert.equal(before.run.status, 'running');
    assert.equal(before.nodes.find((node) => node.nodeId === 'gather')?.status, 'succeeded');
    assert.equal(before.nodes.find((node) => node.nodeId === 'items')?.status, 'running');

    const result = await (await runner.resume(runId)).result;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputs, { report: 'ABCD' });
    const calls = readFileSync(logPath, 'utf8').trim().split('\n');
    // The interrupted item is re-issued with the same key (attempt 1, item 2); a and b are not re-run.
    assert.deepEqual(calls, [
      'gather',
      'item a items:1:0',
      'item b items:1:1',
      'item c items:1:2',
      'item c items:1:2',
      'item d items:1:3',
      'write',
    ]);
  } finally {
    await runner.close();
    await store.close();
  }
});
