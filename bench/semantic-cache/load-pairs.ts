import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One labelled pair: `label` 1 when the two texts ask the same thing. */
export interface ParaphrasePair {
  id: string;
  a: string;
  b: string;
  label: 0 | 1;
  /** STS-B only: the 0–5 similarity score and the split. */
  score?: number;
  split?: string;
}

/**
 * Reads a derived `*.jsonl` pair file of ../shared/data/paraphrase/ (see its MANIFEST.md). The data
 * is for evaluation only; it is read from the shared folder and never copied into the product.
 *
 * @example
 * const pairs = loadPairs(join(dataDir, 'stsb-pairs.jsonl'));
 */
export function loadPairs(path: string): ParaphrasePair[] {
  if (!existsSync(path))
    throw new Error(
      `paraphrase data not found at ${path}: the benchmark reads ../shared/data/paraphrase/ beside the repository`,
    );
  const pairs: ParaphrasePair[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const row = JSON.parse(line) as Record<string, unknown>;
      if (
        typeof row.id !== 'string' ||
        typeof row.a !== 'string' ||
        typeof row.b !== 'string' ||
        (row.label !== 0 && row.label !== 1)
      ) {
        throw new Error(`${path}:${index + 1}: expected {id, a, b, label: 0|1}`);
      }
      const pair: ParaphrasePair = { id: row.id, a: row.a, b: row.b, label: row.label };
      if (typeof row.score === 'number') pair.score = row.score;
      if (typeof row.split === 'string') pair.split = row.split;
      pairs.push(pair);
    });
  return pairs;
}

/** The paraphrase data folder beside the repository. */
export function paraphraseDataDir(repoDir: string): string {
  return join(repoDir, '..', 'shared', 'data', 'paraphrase');
}
