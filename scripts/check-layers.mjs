#!/usr/bin/env node
// `npm run check:layers`: the folder layers of docs/architecture.md and "no file cycles", checked by
// dependency-cruiser with the rules of .dependency-cruiser.mjs. Fails on any new violation, and on a
// known violation (listed in that file) that no longer occurs, so the list of exceptions only shrinks.
//
//   node scripts/check-layers.mjs                  # this repository's src/
//   node scripts/check-layers.mjs --root DIR --json   # DIR/src with no known violations, as JSON (tests)
import { cruise, format } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const configPath = resolve(repoRoot, '.dependency-cruiser.mjs');
const { values: args } = parseArgs({
  options: { root: { type: 'string' }, json: { type: 'boolean', default: false } },
});

const config = await import(new URL('../.dependency-cruiser.mjs', import.meta.url).href);
// Another root (a test's fixture) is checked against the rules alone, without this repository's exceptions.
const knownViolations = args.root === undefined ? config.knownViolations : [];
const options = await extractDepcruiseOptions(configPath);
process.chdir(resolve(args.root ?? repoRoot));
const { output } = await cruise(
  ['src'],
  // The known violations are matched below, so that the ones that no longer occur can be named.
  { ...options, knownViolations: [], outputType: 'json' },
  {},
  { tsConfig: extractTSConfig(options.tsConfig.fileName) },
);
const cruised = typeof output === 'string' ? JSON.parse(output) : output;

/** The comparison dependency-cruiser makes: a cycle by its files, a dependency by its two ends. */
function isSame(known, found) {
  if (known.rule.name !== found.rule.name) return false;
  if (known.cycle !== undefined && found.cycle !== undefined) {
    const names = new Set(found.cycle.map((step) => step.name));
    return known.cycle.length === found.cycle.length && known.cycle.every((step) => names.has(step.name));
  }
  return known.from === found.from && known.to === found.to;
}

const describe = (violation) =>
  violation.cycle === undefined
    ? `${violation.rule.name}: ${violation.from} → ${violation.to}`
    : `${violation.rule.name}: ${[...violation.cycle.map((step) => step.name), violation.cycle[0]?.name].join(' → ')}`;

const all = cruised.summary.violations;
const fresh = all.filter((found) => !knownViolations.some((known) => isSame(known, found)));
const stillThere = knownViolations.filter((known) => all.some((found) => isSame(known, found)));
const gone = knownViolations.filter((known) => !stillThere.includes(known));
const failed = fresh.length > 0 || gone.length > 0;
process.exitCode = failed ? 1 : 0;

if (args.json) {
  const brief = (violation) => ({
    rule: violation.rule.name,
    from: violation.from,
    to: violation.to,
    ...(violation.cycle === undefined ? {} : { cycle: violation.cycle.map((step) => step.name) }),
  });
  process.stdout.write(
    `${JSON.stringify({ violations: fresh.map(brief), known: stillThere.map(brief), stale: gone.map(brief) })}\n`,
  );
} else {
  if (fresh.length > 0) {
    const reported = { ...cruised, summary: { ...cruised.summary, violations: fresh } };
    const { output: text } = await format(reported, { outputType: 'err-long' });
    process.stdout.write(typeof text === 'string' ? text : '');
  }
  if (stillThere.length > 0) {
    process.stdout.write(
      `\ncheck:layers: ${stillThere.length} known violation(s) tolerated (.dependency-cruiser.mjs):\n`,
    );
    for (const known of stillThere) process.stdout.write(`  - ${describe(known)}\n    ${known.comment}\n`);
  }
  if (gone.length > 0) {
    process.stdout.write(
      `\ncheck:layers: ${gone.length} known violation(s) no longer occur: delete them from knownViolations in .dependency-cruiser.mjs:\n`,
    );
    for (const known of gone) process.stdout.write(`  - ${describe(known)}\n`);
  }
  process.stdout.write(
    `\ncheck:layers: ${failed ? 'FAILED' : 'ok'} — ${cruised.summary.totalCruised} modules, ${cruised.summary.totalDependenciesCruised} dependencies; ${fresh.length} violation(s), ${stillThere.length} known, ${gone.length} stale\n`,
  );
}
