/** One server-sent event before it is written: the sim's stream faults work on these. */
export interface SseFrame {
  event?: string;
  data: string;
  /** Whether the event carries model output (delays and `ttft` apply to these). */
  content: boolean;
}

/** The event as wire text; Gemini separates events with CRLF pairs, the others with LF. */
export function formatFrame(frame: SseFrame, crlf: boolean): string {
  const end = crlf ? '\r\n\r\n' : '\n\n';
  return frame.event === undefined
    ? `data: ${frame.data}${end}`
    : `event: ${frame.event}\ndata: ${frame.data}${end}`;
}

/** Splits text into word-sized stream pieces, each keeping its leading whitespace. */
export function splitIntoPieces(text: string, wordsPerPiece = 1): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  if (words.length === 0) return text === '' ? [] : [text];
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += wordsPerPiece)
    pieces.push(words.slice(index, index + wordsPerPiece).join(''));
  // Whatever trailing whitespace the regex left out goes with the last piece.
  const joined = pieces.join('');
  if (joined.length < text.length) pieces[pieces.length - 1] += text.slice(joined.length);
  return pieces;
}

/** Splits a JSON string into fragments, the way tool arguments stream. */
export function splitIntoFragments(text: string, size = 12): string[] {
  const fragments: string[] = [];
  for (let index = 0; index < text.length; index += size) fragments.push(text.slice(index, index + size));
  return fragments;
}
