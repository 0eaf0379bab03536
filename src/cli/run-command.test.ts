import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import { parseInputs } from './parse-inputs.ts';
import { listRunsCommand, runWorkflowCommand, type CommandIo } from './run-command.ts';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/pipewright.js');
const examples = join(root, 'examples/workflows');
const directory = mkdtempSync(join(tmpdir(), 'pw-cli-run-'));
after(() => rmSync(directory, { recursive: true, force: true }));

/** Runs the real CLI; `onStderr` sees stderr as it comes (to interrupt at the right moment). */
function cli(
  args: string[],
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: directory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function isCode(error: unknown, code: string, param?: string): boolean {
  return (
    PipewrightError.isInstance(error) && error.code === code && (param === undefined || error.param === param)
  );
}

function captureIo(): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { stdout, stderr, env: {}, out: () => out, err: () => err };
}

describe('pipewright run (the real command)', { concurrency: true }, () => {
  test('runs the campaign example on the sim: a summary with every node and the outputs, exit 0', async () => {
    const store = join(directory, 'campaign.db');
    const result = await cli([
      'run',
      join(examples, 'campaign.yaml'),
      '--sim',
      '--store',
      store,
      '--input',
      'brief=Launch our green tea to office workers',
      '--input',
      'channels=["email","social"]',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /campaign v1 · run run_\w+: succeeded in .* · 5 of 5 nodes finished · cost \$0\.\d+ \(simulated\)/,
    );
    for (const node of ['direction', 'audience', 'copy', 'brand-check', 'select'])
      assert.match(result.stdout, new RegExp(`^${node}\\s+succeeded\\s+1\\s`, 'm'));
    assert.match(
      result.stdout,
      /Outputs\n {2}selection:[\s\S]*\[simulated\][\s\S]* {2}variants:\n {4}- \[simulated\][^\n]*email[^\n]*\n {4}- \[simulated\][^\n]*social/,
    );
    // Progress (plain lines: stderr is not a terminal here) and the simulated label go to stderr.
    assert.match(result.stderr, /SIMULATED/);
    assert.match(result.stderr, /succeeded copy/);
  });

  test('an input the workflow does not declare is refused by name, exit 1', async () => {
    const result = await cli([
      'run',
      join(examples, 'campaign.yaml'),
      '--sim',
      '--store',
      join(directory, 'bad.db'),
      '--input',
      'brief=Launch our green tea',
      '--input',
      'budget=100',
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /pipewright: "budget" is not an input of workflow campaign \(inputs: brief, channels\)/,
    );
    assert.equal(result.stdout, '');
  });

  test('Ctrl+C interrupts a run (exit 130), `pipewright resume` finishes it', async () => {
    const store = join(directory, 'interrupt.db');
    const slowConfig = join(directory, 'slow.yaml');
    writeFileSync(
      slowConfig,
      [
        'deployments:',
        '  - { id: slow-sim, provider: sim, model: gpt-4o-mini, baseUrl: "${SIM_URL}/v1", apiKey: sim-key, headers: { x-sim-fault: latency=30000 } }',
        'modelGroups:',
        '  - { name: fast, deployments: [slow-sim] }',
        '',
      ].join('\n'),
    );
    let interrupted = false;
    const first = await cli(
      [
        'run',
        join(examples, 'document-fan-out.yaml'),
        '--config',
        slowConfig,
        '--sim',
        '--store',
        store,
        '--run-id',
        'run_cli_interrupt',
        '--input',
        'documents=["one","two"]',
      ],
      (stderr, child) => {
        if (!interrupted && stderr.includes('started   summarize')) {
          interrupted = true;
          child.kill('SIGINT');
        }
      },
    );
    assert.equal(first.code, 130, first.stderr);
    assert.match(
      first.stderr,
      /run run_cli_interrupt interrupted; continue it with: pipewright resume run_cli_interrupt --config .*slow\.yaml --sim --store /,
    );
    assert.match(first.stdout, /run run_cli_interrupt: interrupted/);

    const second = await cli(['resume', 'run_cli_interrupt', '--sim', '--store', store]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      /resuming run run_cli_interrupt: 0 succeeded node\(s\) kept; re-running interrupted: summarize/,
    );
    assert.match(second.stdout, /document-fan-out v1 · run run_cli_interrupt: succeeded/);
    assert.match(second.stdout, /digest:\n {4}\[simulated\][\s\S]*\n {4}---\n {4}\[simulated\]/);

    const io = captureIo();
    assert.equal(await listRunsCommand({ store, json: true }, io), 0);
    assert.deepEqual(
      (JSON.parse(io.out()) as Array<{ runId: string; status: string }>).map((run) => [
        run.runId,
        run.status,
      ]),
      [['run_cli_interrupt', 'succeeded']],
    );
  });
});

describe('pipewright run (in process)', () => {
  test('--json prints the run with its outputs and nodes; progress stays off stdout', async () => {
    const io = captureIo();
    const code = await runWorkflowCommand(
      join(examples, 'document-fan-out.yaml'),
      {
        sim: true,
        json: true,
        store: join(directory, 'json.db'),
        input: ['documents=["Tea harvests rose.","Packaging is recycled."]'],
      },
      io,
    );
    assert.equal(code, 0, io.err());
    const result = JSON.parse(io.out()) as {
      status: string;
      simulated: boolean;
      outputs: { summaries: string[]; digest: string };
      nodes: Array<{ id: string; status: string }>;
      costUsd: number;
    };
    assert.equal(result.status, 'succeeded');
    assert.equal(result.simulated, true);
    assert.equal(result.outputs.summaries.length, 2);
    assert.match(result.outputs.summaries[1] ?? '', /Packaging is recycled/);
    assert.equal(result.outputs.digest, result.outputs.summaries.join('\n---\n'));
    assert.deepEqual(
      result.nodes.map((node) => [node.id, node.status]),
      [
        ['summarize', 'succeeded'],
        ['digest', 'succeeded'],
        ['length-check', 'succeeded'],
      ],
    );
    assert.ok(result.costUsd > 0);
  });

  test('a missing required input is named before anything runs', async () => {
    await assert.rejects(
      runWorkflowCommand(
        join(examples, 'campaign.yaml'),
        { sim: true, store: join(directory, 'missing.db'), input: [] },
        captureIo(),
      ),
      (error: unknown) => isCode(error, 'workflow.input_invalid', 'brief'),
    );
  });

  test('a model group the config lacks is named with its node before the run starts', async () => {
    const config = join(directory, 'other-groups.yaml');
    writeFileSync(
      config,
      'deployments:\n  - { id: d, provider: sim, model: gpt-4o-mini, baseUrl: "http://127.0.0.1:9/v1" }\nmodelGroups:\n  - { name: smart, deployments: [d] }\n',
    );
    await assert.rejects(
      runWorkflowCommand(
        join(examples, 'campaign.yaml'),
        { config, store: join(directory, 'groups.db'), input: ['brief=Launch our green tea'] },
        captureIo(),
      ),
      (error: unknown) =>
        isCode(error, 'workflow.definition_invalid', 'nodes.direction.modelGroup') &&
        /model group "fast" is not configured \(configured: smart\)/.test((error as Error).message),
    );
  });

  test('a failed run prints its nodes, names the failure and exits 1', async () => {
    const flow = join(directory, 'rejecting.yaml');
    writeFileSync(
      flow,
      [
        'id: rejecting',
        'version: 1',
        'inputs: [text]',
        'outputs: { text: $context.copy }',
        'context:',
        '  fields:',
        '    text: { schema: { type: string } }',
        '    copy: { schema: { type: string } }',
        'nodes:',
        '  copy: { type: transform, fn: identity, input: $context.text, writes: { copy: $output } }',
        '  length: { type: gate, target: copy, check: text-check, parameters: { minLength: 50 }, onFail: reject }',
        '',
      ].join('\n'),
    );
    const io = captureIo();
    const code = await runWorkflowCommand(
      flow,
      { sim: true, store: join(directory, 'rejecting.db'), input: ['text=too short'] },
      io,
    );
    assert.equal(code, 1);
    assert.match(io.out(), /run run_\w+: failed/);
    assert.match(io.out(), /^length\s+failed\s+1\s/m);
    assert.match(io.err(), /pipewright: run run_\w+ failed: workflow\.node_failed: .*length/);
  });

  test('runs lists nothing for an empty store without creating it', async () => {
    const io = captureIo();
    assert.equal(await listRunsCommand({ store: join(directory, 'none.db') }, io), 0);
    assert.match(io.out(), /No runs yet \(no store at .*none\.db\)/);
  });
});

test('--input values are JSON when they parse, text otherwise; malformed pairs are refused', () => {
  assert.deepEqual(
    parseInputs(['n=3', 'tags=["a","b"]', 'ok=true', 'brief=Tea for all', 'id=007', 'eq=a=b', 'empty=']),
    { n: 3, tags: ['a', 'b'], ok: true, brief: 'Tea for all', id: '007', eq: 'a=b', empty: '' },
  );
  assert.throws(
    () => parseInputs(['brief']),
    (error: unknown) => isCode(error, 'request.invalid', 'input'),
  );
  assert.throws(() => parseInputs(['a=1', 'a=2']), /"a" is given twice/);
});
