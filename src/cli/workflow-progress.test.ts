import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { WorkflowEventRecord, WorkflowNodeRecord, WorkflowRunRecord } from '../store/index.ts';
import type { WorkflowRunView } from '../workflow/index.ts';
import { createWorkflowProgress } from './workflow-progress.ts';

function view(statuses: Record<string, WorkflowNodeRecord['status']>, costUsd = 0): WorkflowRunView {
  return {
    run: {
      runId: 'run_1',
      tenantId: 't',
      workflowId: 'campaign',
      workflowVersion: 2,
      costUsd,
    } as WorkflowRunRecord,
    nodes: Object.entries(statuses).map(([nodeId, status]) => ({ nodeId, status }) as WorkflowNodeRecord),
  };
}

let seq = 0;
function event(type: string, nodeId: string | null, data: Record<string, unknown> = {}): WorkflowEventRecord {
  seq += 1;
  return { tenantId: 't', runId: 'run_1', seq, time: 0, type, nodeId, data };
}

function capture(columns = 200) {
  const output = Object.assign(new PassThrough(), { isTTY: true, columns });
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    output,
    text: () => text,
    lastLine: () =>
      text
        .split('\r\u001b[2K')
        .filter((line) => line !== '')
        .at(-1) ?? '',
  };
}

test('on a terminal: one redrawn line with nodes done of total, running nodes, map items, cost and elapsed', () => {
  let now = 0;
  const screen = capture();
  const progress = createWorkflowProgress({ output: screen.output, now: () => now, redrawMs: 60_000 });
  progress.begin(view({ brief: 'succeeded', copy: 'pending', check: 'pending', unused: 'skipped' }, 0.001));
  assert.match(screen.lastLine(), /campaign v2 {2}2\/4 nodes {2}waiting {2}\$0\.001000 {2}0 ms$/);

  progress.update(event('node-started', 'copy'));
  progress.update(event('map-item-succeeded', 'copy', { index: 0, costUsd: 0.0002 }));
  now = 2_500;
  progress.update(event('map-item-succeeded', 'copy', { index: 1, costUsd: 0.0003 }));
  assert.match(screen.lastLine(), /2\/4 nodes {2}running: copy \(2 items\) {2}\$0\.001500 {2}2\.5 s$/);

  // The node's success reports the items' cost again: it is not counted twice.
  progress.update(event('node-succeeded', 'copy', { costUsd: 0.0005 }));
  progress.update(event('node-started', 'check'));
  assert.match(screen.lastLine(), /3\/4 nodes {2}running: check {2}\$0\.001500/);
  progress.update(event('node-failed', 'check', { error: { message: 'rejected' } }));
  assert.equal(progress.costUsd, 0.0015);
  progress.end();
  assert.ok(screen.text().endsWith('\r\u001b[2K'), 'the live line is cleared before the summary');
});

test('the live line never exceeds the terminal width', () => {
  const screen = capture(40);
  const progress = createWorkflowProgress({ output: screen.output, redrawMs: 60_000 });
  progress.begin(view({ 'a-very-long-node-name-indeed': 'running', 'another-long-node-name': 'running' }));
  assert.ok(screen.lastLine().length <= 39, screen.lastLine());
  progress.end();
});

test('elsewhere (logs, CI): one plain line per node transition, no control characters', () => {
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const progress = createWorkflowProgress({ output, now: () => 0 });
  progress.begin(view({ draft: 'pending' }));
  progress.update(event('node-started', 'draft'));
  progress.update(event('node-retrying', 'draft', { attempt: 2, error: { message: 'upstream 503' } }));
  progress.update(event('node-started', 'draft', { attempt: 2 }));
  progress.update(event('node-succeeded', 'draft', { costUsd: 0.00002 }));
  progress.end();
  assert.equal(
    text,
    [
      '[   0 ms] started   draft',
      '[   0 ms] retrying  draft (attempt 2): upstream 503',
      '[   0 ms] started   draft (attempt 2)',
      '[   0 ms] succeeded draft  $0.000020',
      '',
    ].join('\n'),
  );
});
