/**
 * What replaces a secret in text shown to callers, logged or stored.
 */
export const redactedMarker = '[redacted]';
// A value already redacted by an earlier pattern (its closing bracket may end the value's match).
const redactedPrefix = redactedMarker.slice(0, -1);

// Each pattern matches a whole secret (or a masked one: a masked key still names the account's
// key and its last characters, which a caller of the gateway has no business seeing).
const secretPatterns: readonly RegExp[] = [
  // OpenAI (sk-…, sk-proj-…, sk-svcacct-…, sk-admin-…) and Anthropic (sk-ant-api03-…) keys, whole
  // or masked as providers echo them: `sk-...abcd`, `sk-proj-****1234`, `sk-abc1***…***wxyz`.
  /\bsk-(?:[A-Za-z0-9_*-]|\.{3}|…)+/g,
  // Google API keys (Gemini, Vertex) and OAuth access tokens.
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /\bya29\.[0-9A-Za-z._-]{10,}/g,
  // Other vendors' prefixed tokens: GitHub, Hugging Face, Groq, xAI, Slack, AWS access key ids.
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[0-9A-Za-z_]{16,}/g,
  /\b(?:hf|gsk|xai)_[0-9A-Za-z]{16,}/g,
  /\bxox[abposr]-[0-9A-Za-z-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // JSON Web Tokens.
  /\beyJ[0-9A-Za-z_-]{5,}\.[0-9A-Za-z_-]{5,}\.[0-9A-Za-z_-]*/g,
  // Any other masked credential: characters around a run of asterisks (`abc****wxyz`, `****1234`).
  /[0-9A-Za-z_-]+\*{3,}[0-9A-Za-z_*-]*|\*{3,}[0-9A-Za-z_-]+/g,
];

// `Authorization: Bearer …` (or Basic, Digest…): the header name and scheme stay, the credential goes.
const authorizationPattern = /(\bauthorization["']?\s*[:=]\s*["']?)(?:([A-Za-z]+)\s+)?[^\s"',;]+/gi;
const bearerPattern = /\b(Bearer)(\s+)[0-9A-Za-z._~+/=-]{8,}/gi;

// Fields that always hold a credential: `api-key: …`, `"x-api-key": "…"`, `password=…`.
const credentialFieldPattern =
  /(\b(?:x-api-key|api[-_]?key|apikey|subscription[-_]?key|access[-_]?token|auth[-_]?token|refresh[-_]?token|id[-_]?token|client[-_]?secret|secret[-_]?key|password|passwd)\b["']?\s*[:=]\s*["']?)([^\s"'&,;)}\]]{4,})/gi;
// Query parameters that hold one: `?key=…`, `&sig=…` (only with `=`: "key: messages" is prose).
const credentialParameterPattern = /([?&;\s](?:key|token|sig|signature|secret)=)([^\s"'&#,;)]{4,})/gi;

// Long runs of hex (Azure keys are 32 hex characters) or of base64/base64url that mix upper
// case, lower case and digits (random secrets do; words, paths and ids with dashes do not).
const longHexPattern = /\b[0-9a-fA-F]{32,}\b/g;
const longBase64Pattern = /[0-9A-Za-z+_-]{40,}={0,2}/g;

function looksRandom(token: string): boolean {
  return /[0-9]/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token);
}

/**
 * Removes anything that looks like a credential from a text, keeping the rest word for word:
 * provider keys (OpenAI, Anthropic, Google, Azure's 32-hex keys, other vendors' prefixed
 * tokens), masked keys as providers echo them (`sk-proj-****1234`), bearer and basic
 * credentials, JSON Web Tokens, values of key-like fields (`api-key: …`, `?key=…`) and long
 * random-looking hex or base64 strings. Each becomes `[redacted]`.
 *
 * Upstream error messages pass through here before they reach a caller or a log
 * (`ProviderError` applies it to every message), so a provider that echoes the key it was
 * sent cannot leak it.
 *
 * @example
 * redactSecrets('Incorrect API key provided: sk-proj-****1234. You can find your API key at https://platform.openai.com/account/api-keys.');
 * // 'Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.'
 * redactSecrets('upstream said: Authorization: Bearer abc.def.ghi-123'); // 'upstream said: Authorization: Bearer [redacted]'
 */
export function redactSecrets(text: string): string {
  // Most messages hold nothing to redact: skip the replacements when no pattern can match.
  if (!mayHoldSecret(text)) return text;
  let out = text;
  for (const pattern of secretPatterns) out = out.replace(pattern, redactedMarker);
  out = out.replace(authorizationPattern, (_match, name: string, scheme: string | undefined) =>
    scheme === undefined ? `${name}${redactedMarker}` : `${name}${scheme} ${redactedMarker}`,
  );
  out = out.replace(bearerPattern, (match, scheme: string, space: string) =>
    match.endsWith(redactedMarker) ? match : `${scheme}${space}${redactedMarker}`,
  );
  const redactValue = (match: string, name: string, value: string): string =>
    value.startsWith(redactedPrefix) ? match : `${name}${redactedMarker}`;
  out = out.replace(credentialFieldPattern, redactValue);
  out = out.replace(credentialParameterPattern, redactValue);
  out = out.replace(longHexPattern, redactedMarker);
  out = out.replace(longBase64Pattern, (match) => (looksRandom(match) ? redactedMarker : match));
  return out;
}

// A cheap pre-check: every pattern above needs one of these, or a run of 32+ word characters.
const candidatePattern =
  /\*\*\*|sk-|AIza|ya29\.|gh[pousr]_|github_pat_|hf_|gsk_|xai_|xox|AKIA|ASIA|eyJ|bearer|authorization|token|key|secret|passw|sig|[0-9A-Za-z+_-]{32}/i;

function mayHoldSecret(text: string): boolean {
  return candidatePattern.test(text);
}
