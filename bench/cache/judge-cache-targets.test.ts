// The cache benchmark's verdicts, from made-up figures (no benchmark is run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, type ExactRow } from './index.ts';
import { judgeExactHit, judgeSemanticLookup } from './judge-cache-targets.ts';

const row = (name: string, p99: number, failures = 0, roundP99s = [p99, p99, p99]): ExactRow => ({
  name,
  what: name,
  p50: p99 / 2,
  p99,
  roundP99s,
  ok: 1_000,
  failures,
});

function exactVerdictLine(rows: ExactRow[]): string {
  const report = formatReport({
    facts: '- Machine: test',
    exactRows: rows,
    semanticRows: [],
    embedding: { p50: 6, p99: 12, loadS: 0.4 },
    requestsPerRound: 1_000,
    rounds: 3,
    elapsedS: 1,
  });
  return report.split('\n').find((line) => line.startsWith('- **Exact hit**')) ?? '';
}

test('an exact hit is judged against the upstream called directly, not against a gateway that calls it', () => {
  // Faster than the bare gateway (which still goes upstream) but 1 ms slower than the upstream alone.
  const rows = [row('direct (sim)', 1.0), row('bare gateway', 4.0), row('exact hit', 2.0)];
  assert.deepEqual(judgeExactHit(rows[2], rows[0]), { addedP99Ms: 1.0, verdict: 'FAIL' });
  const line = exactVerdictLine(rows);
  assert.match(line, /adds \+1\.000 ms at p99/);
  assert.match(line, /: FAIL\./);
  assert.match(
    exactVerdictLine([row('direct (sim)', 1.0), row('bare gateway', 4.0), row('exact hit', 1.3)]),
    /: PASS\./,
  );
});

test('a failed request fails the exact-hit target whatever the speed; a missing path is not judged', () => {
  assert.equal(judgeExactHit(row('exact hit', 1.0, 3), row('direct (sim)', 1.0)).verdict, 'FAIL');
  assert.equal(judgeExactHit(row('exact hit', 1.0), row('direct (sim)', 1.0, 1)).verdict, 'FAIL');
  assert.equal(judgeExactHit(row('exact hit', 1.0), undefined).verdict, 'NOT JUDGED');
});

test('the exact-hit verdict pairs each round’s p99s and takes the median: one stalled round does not decide', () => {
  const direct = row('direct (sim)', 40, 0, [1.0, 1.1, 40]);
  // The hit's p99 over all requests (2.0) is far below the direct one (40), but per round it is slower.
  const hit = row('exact hit', 2.0, 0, [1.9, 2.0, 1.2]);
  const verdict = judgeExactHit(hit, direct);
  assert.equal(verdict.verdict, 'FAIL');
  assert.ok(Math.abs((verdict.addedP99Ms ?? 0) - 0.9) < 1e-9, String(verdict.addedP99Ms));
  assert.equal(judgeExactHit(row('exact hit', 2.0, 0, [1.2, 1.3, 2.0]), direct).verdict, 'PASS');
});

test('the semantic lookup target is judged only at 100,000 entries', () => {
  const at = (entries: number, p99: number) => ({ entries, hitP99Ms: p99, missP99Ms: p99 / 2 });
  assert.equal(judgeSemanticLookup([at(10_000, 0.8)]).verdict, 'NOT JUDGED');
  assert.deepEqual(judgeSemanticLookup([at(10_000, 0.8), at(100_000, 1.5)]), {
    p99Ms: 1.5,
    entries: 100_000,
    verdict: 'PASS',
  });
  assert.equal(judgeSemanticLookup([at(100_000, 2.5)]).verdict, 'FAIL');
});
