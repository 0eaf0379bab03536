export type ColumnAlign = 'left' | 'right';

/**
 * A Markdown table with padded columns, readable both rendered and as plain text in a terminal.
 * Numbers in cells should already be formatted (see `formatNumber`).
 *
 * @example
 * formatMarkdownTable(['target', 'RPS'], [['direct', '9,120']], ['left', 'right']);
 */
export function formatMarkdownTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align: readonly ColumnAlign[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(3, header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const pad = (text: string, column: number) => {
    const width = widths[column] ?? text.length;
    return align[column] === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]) =>
    `| ${headers.map((_, column) => pad(cells[column] ?? '', column)).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (align[column] === 'right' ? `${'-'.repeat(width + 1)}:` : `${'-'.repeat(width + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/**
 * A number with thousands separators and a fixed number of decimals; `–` for NaN/undefined.
 *
 * @example
 * formatNumber(12345.678, 1); // "12,345.7"
 */
export function formatNumber(value: number | undefined, decimals = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * A signed number (`+0.41`, `-0.10`) for differences against a baseline; `–` for NaN/undefined.
 *
 * @example
 * formatSigned(0.4123, 2); // "+0.41"
 */
export function formatSigned(value: number | undefined, decimals = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const text = formatNumber(Math.abs(value), decimals);
  return `${value < 0 && text !== formatNumber(0, decimals) ? '-' : '+'}${text}`;
}
