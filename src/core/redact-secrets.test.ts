import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from './redact-secrets.ts';

describe('redactSecrets', () => {
  it('removes masked and whole OpenAI and Anthropic keys as providers echo them', () => {
    assert.equal(
      redactSecrets(
        'Incorrect API key provided: sk-proj-****1234. You can find your API key at https://platform.openai.com/account/api-keys.',
      ),
      'Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
    );
    assert.equal(
      redactSecrets('Incorrect API key provided: sk-...abcd.'),
      'Incorrect API key provided: [redacted].',
    );
    assert.equal(
      redactSecrets('Incorrect API key provided: sk-abc12***************************************wxyz.'),
      'Incorrect API key provided: [redacted].',
    );
    assert.equal(
      redactSecrets('key sk-ant-api03-AbCdEf0123456789_-xyzXYZ0123456789abcdefABCDEF-12345678AA is disabled'),
      'key [redacted] is disabled',
    );
    assert.equal(redactSecrets('sk-svcacct-Xy12_abc is revoked'), '[redacted] is revoked');
    assert.equal(
      redactSecrets('Incorrect API key provided: inv****-key. You can find your API key at https://x.test.'),
      'Incorrect API key provided: [redacted]. You can find your API key at https://x.test.',
    );
    assert.equal(redactSecrets('key ending ****1234 is disabled'), 'key ending [redacted] is disabled');
  });

  it('removes Google keys, Azure hex keys, bearer credentials and JWTs', () => {
    assert.equal(
      redactSecrets('GET /v1beta/models?key=AIzaSyA1234567890abcdefghijklmnopqrstu failed'),
      'GET /v1beta/models?key=[redacted] failed',
    );
    assert.equal(
      redactSecrets('invalid subscription key 0123456789abcdef0123456789abcdef or wrong API endpoint'),
      'invalid subscription key [redacted] or wrong API endpoint',
    );
    assert.equal(
      redactSecrets('proxy: Authorization: Bearer abc.def.ghi-123 refused'),
      'proxy: Authorization: Bearer [redacted] refused',
    );
    assert.equal(redactSecrets('sent bearer Zk29xLmN0pQr'), 'sent bearer [redacted]');
    assert.equal(
      redactSecrets(
        'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired',
      ),
      'token [redacted] expired',
    );
  });

  it('removes the values of credential fields and query parameters, once', () => {
    assert.equal(
      redactSecrets('headers {"api-key":"abcd1234efgh","x-api-key": "sk-ant-xyz", "password": "hunter22"}'),
      'headers {"api-key":"[redacted]","x-api-key": "[redacted]", "password": "[redacted]"}',
    );
    assert.equal(
      redactSecrets('https://x.blob.core.windows.net/f?sv=2024&sig=AbC%2Bde12&se=1'),
      'https://x.blob.core.windows.net/f?sv=2024&sig=[redacted]&se=1',
    );
  });

  it('removes long random-looking base64 strings', () => {
    assert.equal(
      redactSecrets('credential Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5 rejected'),
      'credential [redacted] rejected',
    );
  });

  it('keeps ordinary provider messages word for word', () => {
    for (const message of [
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130542 tokens. Please reduce the length of the messages.",
      "Invalid value for 'max_tokens': expected an integer. Missing required key: messages",
      'prompt is too long: 215000 tokens > 200000 maximum',
      'API key not valid. Please pass a valid API key.',
      'x-api-key header is required',
      'The model `gpt-4o-mini-2024-07-18` does not exist at /openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
      'request req_011CSHoEeqs5C35K2UUqGqHK for chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT failed',
      'You exceeded your current quota, please check your plan and billing details.',
      'The bearer of this message is overloaded',
      'a **bold** word and a *** separator',
    ]) {
      assert.equal(redactSecrets(message), message);
    }
  });
});
