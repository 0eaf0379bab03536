import { Composer, CST, Lexer, LineCounter, Parser, type Document } from 'yaml';
import type { ErrorCode } from './error-codes.ts';
import { PipewrightError } from './errors.ts';

/** What a YAML text may cost before it is refused. */
export interface YamlLimits {
  /** The largest text accepted, in UTF-8 bytes (default 1 MiB). */
  maxBytes: number;
  /** The deepest nesting of collections (maps and lists, block or flow) accepted (default 64). */
  maxDepth: number;
  /**
   * The most aliases (`*name`) the text may hold, and the most nodes one anchor may expand to
   * through them (the `yaml` package's own check against "billion laughs"; default 100).
   */
  maxAliasCount: number;
}

export const defaultYamlLimits: Readonly<YamlLimits> = {
  maxBytes: 1_048_576,
  maxDepth: 64,
  maxAliasCount: 100,
};

export interface ParseYamlOptions {
  /** What the text is, named first in every error: a request parameter (`definition`) or a file path. */
  param: string;
  /** The code of the error a refused text raises (default `request.invalid`). */
  code?: ErrorCode;
  limits?: Partial<YamlLimits>;
}

/**
 * Parses one YAML document into plain values within bounds: the size is checked before parsing;
 * the nesting depth and the aliases are counted token by token as the lexer reads, so a text too
 * deep is refused at its first level too many, before the parser builds anything for it; alias
 * expansion is bounded while the values are built. A refusal or a syntax error is a
 * `PipewrightError` (`options.code`, `param` = `options.param`) whose message names the text and
 * the limit, with `details.limit` (`maxBytes`, `maxDepth`, `maxAliasCount`) and the position, or
 * `details.problems` (line, column, message) for syntax errors.
 *
 * @example
 * const value = parseYamlBounded(body.definition, { param: 'definition', code: 'workflow.definition_invalid' });
 */
export function parseYamlBounded(text: string, options: ParseYamlOptions): unknown {
  const limits: YamlLimits = { ...defaultYamlLimits, ...options.limits };
  const fail = (reason: string, details: Record<string, unknown>) =>
    new PipewrightError({
      code: options.code ?? 'request.invalid',
      message: `${options.param}: ${reason}`,
      param: options.param,
      details: { reason, ...details },
    });

  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes)
    throw fail(`the YAML text is ${bytes} bytes, more than the limit of ${limits.maxBytes} (maxBytes)`, {
      limit: 'maxBytes',
      max: limits.maxBytes,
    });

  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const guard = createYamlGuard(limits);
  function* tokens() {
    for (const lexeme of new Lexer().lex(text)) {
      const exceeded = guard.see(lexeme);
      if (exceeded !== undefined)
        throw fail(`the YAML text ${exceeded.what} at line ${exceeded.line}, column ${exceeded.column}`, {
          limit: exceeded.limit,
          max: limits[exceeded.limit],
          line: exceeded.line,
          column: exceeded.column,
        });
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }

  let document: Document.Parsed | undefined;
  let documents = 0;
  for (const composed of new Composer({ uniqueKeys: true }).compose(tokens(), true, text.length)) {
    documents += 1;
    document ??= composed;
  }
  const problems = (document?.errors ?? []).map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { line, column: col, message: error.message.split('\n')[0] ?? error.message };
  });
  if (documents > 1)
    problems.push({ line: 0, column: 0, message: 'the text holds more than one YAML document' });
  const first = problems[0];
  if (document === undefined || first !== undefined) {
    const where =
      first === undefined || first.line === 0 ? '' : ` at line ${first.line}, column ${first.column}`;
    throw fail(`invalid YAML${where}: ${first?.message ?? 'no document'}`, { problems });
  }
  try {
    return document.toJS({ maxAliasCount: limits.maxAliasCount }) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias count/i.test(message))
      throw fail(`the YAML aliases expand to more than ${limits.maxAliasCount} nodes (maxAliasCount)`, {
        limit: 'maxAliasCount',
        max: limits.maxAliasCount,
      });
    throw fail(`invalid YAML: ${message}`, { problems: [{ line: 0, column: 0, message }] });
  }
}

interface Exceeded {
  limit: 'maxDepth' | 'maxAliasCount';
  what: string;
  line: number;
  column: number;
}

/**
 * Follows the lexer's tokens and measures how deep the collections nest: flow collections by
 * their brackets, block collections by the columns of their entries (a `- ` or a `key:` deeper
 * than the entries around it opens a level; a line starting further left closes the levels it
 * leaves). Counts the aliases too. Returns the first limit a token exceeds.
 */
function createYamlGuard(limits: YamlLimits): { see(lexeme: string): Exceeded | undefined } {
  let offset = 0;
  let line = 1;
  let lineStart = 0;
  let flowDepth = 0;
  let aliases = 0;
  /** The open block collections, outermost first: the column of their entries and their kind. */
  const blocks: Array<{ column: number; kind: 'seq' | 'map' }> = [];
  let atLineStart = true;
  /** The column where the current line's (or the current entry's) first content began: a key's. */
  let keyColumn: number | undefined;
  let atScalar = false;

  const closeDeeperThan = (column: number) => {
    while ((blocks.at(-1)?.column ?? -1) > column) blocks.pop();
  };
  const startOfLine = (column: number) => {
    if (!atLineStart) return;
    closeDeeperThan(column);
    atLineStart = false;
  };
  /** `column` counts from 0 on the current line. */
  const exceeded = (column: number, what: string, limit: Exceeded['limit']): Exceeded => ({
    limit,
    what,
    line,
    column: column + 1,
  });
  const checkDepth = (column: number): Exceeded | undefined =>
    blocks.length + flowDepth > limits.maxDepth
      ? exceeded(column, `nests deeper than ${limits.maxDepth} levels (maxDepth)`, 'maxDepth')
      : undefined;

  /** A block sequence entry (`- `) at `column`: a sibling of one at the same column, else a new level. */
  const sequenceEntry = (column: number) => {
    startOfLine(column);
    const top = blocks.at(-1);
    keyColumn = undefined;
    if (top?.kind === 'seq' && top.column === column) return undefined;
    blocks.push({ column, kind: 'seq' });
    return checkDepth(column);
  };
  /** A block mapping entry whose key starts at `column`: ends a list at that column, else a sibling or a new level. */
  const mappingEntry = (column: number) => {
    startOfLine(column);
    closeDeeperThan(column);
    keyColumn = undefined;
    if (blocks.at(-1)?.kind === 'seq' && blocks.at(-1)?.column === column) blocks.pop();
    const top = blocks.at(-1);
    if (top?.kind === 'map' && top.column === column) return undefined;
    blocks.push({ column, kind: 'map' });
    return checkDepth(column);
  };
  /** Content (a scalar, an anchor, a tag, a flow collection's start) at `column`. */
  const content = (column: number) => {
    if (flowDepth > 0) return;
    startOfLine(column);
    keyColumn ??= column;
  };
  /** Moves past a token, following the lines it spans. */
  const advance = (lexeme: string) => {
    const start = offset;
    offset += lexeme.length;
    const lastNewline = lexeme.lastIndexOf('\n');
    if (lastNewline < 0) return;
    for (const character of lexeme) if (character === '\n') line += 1;
    lineStart = start + lastNewline + 1;
  };

  /** What a token does to the structure, at `column` on its line. */
  function apply(role: TokenRole, column: number): Exceeded | undefined {
    switch (role) {
      case 'document':
        blocks.length = 0;
        flowDepth = 0;
        atLineStart = true;
        keyColumn = undefined;
        return undefined;
      case 'sequence-entry':
        return flowDepth === 0 ? sequenceEntry(column) : undefined;
      case 'explicit-key':
        return flowDepth === 0 ? mappingEntry(column) : undefined;
      case 'map-value':
        return flowDepth === 0 ? mappingEntry(keyColumn ?? column) : undefined;
      case 'open':
        content(column);
        flowDepth += 1;
        return checkDepth(column);
      case 'close':
        flowDepth = Math.max(0, flowDepth - 1);
        return undefined;
      case 'alias':
        aliases += 1;
        content(column);
        return aliases > limits.maxAliasCount
          ? exceeded(column, `has more than ${limits.maxAliasCount} aliases (maxAliasCount)`, 'maxAliasCount')
          : undefined;
      case 'content':
        content(column);
        return undefined;
      case 'none':
      case 'marker':
      case 'scalar-marker':
      case 'newline':
        return undefined;
    }
  }

  function see(lexeme: string): Exceeded | undefined {
    const column = offset - lineStart;
    // The text after the lexer's scalar marker is a scalar's, whatever it starts with.
    const role: TokenRole = atScalar ? 'content' : roleOf(lexeme);
    atScalar = role === 'scalar-marker';
    if (role === 'marker' || role === 'scalar-marker') return undefined; // not source text
    const result = apply(role, column);
    advance(lexeme);
    if (role === 'newline' && flowDepth === 0) {
      atLineStart = true;
      keyColumn = undefined;
    }
    return result;
  }

  return { see };
}

/** What the guard makes of a token. */
type TokenRole =
  | 'marker'
  | 'scalar-marker'
  | 'newline'
  | 'document'
  | 'sequence-entry'
  | 'explicit-key'
  | 'map-value'
  | 'open'
  | 'close'
  | 'alias'
  | 'content'
  | 'none';

const tokenRoles: Record<CST.TokenType, TokenRole> = {
  scalar: 'scalar-marker',
  'doc-mode': 'marker',
  'flow-error-end': 'marker',
  newline: 'newline',
  'doc-start': 'document',
  'doc-end': 'document',
  'directive-line': 'document',
  'seq-item-ind': 'sequence-entry',
  'explicit-key-ind': 'explicit-key',
  'map-value-ind': 'map-value',
  'flow-map-start': 'open',
  'flow-seq-start': 'open',
  'flow-map-end': 'close',
  'flow-seq-end': 'close',
  alias: 'alias',
  anchor: 'content',
  tag: 'content',
  'block-scalar-header': 'content',
  'single-quoted-scalar': 'content',
  'double-quoted-scalar': 'content',
  space: 'none',
  comment: 'none',
  comma: 'none',
  'byte-order-mark': 'none',
};

function roleOf(lexeme: string): TokenRole {
  const type = CST.tokenType(lexeme);
  return type === null ? 'none' : tokenRoles[type];
}
