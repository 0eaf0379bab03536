import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../../core/index.ts';
import type { ChatRequest } from '../../spec/index.ts';
import { convertToAnthropicTools } from './convert-to-anthropic-tools.ts';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};
const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
const converted = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } } },
};

describe('convertToAnthropicTools', () => {
  it('sends nothing when the request has no tools and no JSON format', () => {
    assert.deepEqual(convertToAnthropicTools(base), {});
  });

  it('converts tools to name, description and input_schema', () => {
    assert.deepEqual(convertToAnthropicTools({ ...base, tools: [weatherTool] }), { tools: [converted] });
  });

  it('maps each tool_choice', () => {
    const withChoice = (tool_choice: ChatRequest['tool_choice']) =>
      convertToAnthropicTools({ ...base, tools: [weatherTool], tool_choice });
    assert.deepEqual(withChoice('auto').tool_choice, { type: 'auto' });
    assert.deepEqual(withChoice('required').tool_choice, { type: 'any' });
    assert.deepEqual(withChoice('none').tool_choice, { type: 'none' });
    assert.deepEqual(withChoice({ type: 'function', function: { name: 'get_weather' } }).tool_choice, {
      type: 'tool',
      name: 'get_weather',
    });
  });

  it('maps parallel_tool_calls:false to disable_parallel_tool_use', () => {
    assert.deepEqual(
      convertToAnthropicTools({ ...base, tools: [weatherTool], parallel_tool_calls: false }).tool_choice,
      {
        type: 'auto',
        disable_parallel_tool_use: true,
      },
    );
    assert.deepEqual(
      convertToAnthropicTools({
        ...base,
        tools: [weatherTool],
        tool_choice: 'required',
        parallel_tool_calls: false,
      }).tool_choice,
      {
        type: 'any',
        disable_parallel_tool_use: true,
      },
    );
  });

  it('forces the json_output tool with the requested schema for json_schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    const config = convertToAnthropicTools({
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 'math', schema } },
    });
    assert.deepEqual(config.tools, [
      {
        name: 'json_output',
        description: 'Respond with the answer as JSON matching the math schema.',
        input_schema: schema,
      },
    ]);
    assert.deepEqual(config.tool_choice, { type: 'tool', name: 'json_output' });
  });

  it('forces an open object schema for json_object', () => {
    const config = convertToAnthropicTools({ ...base, response_format: { type: 'json_object' } });
    assert.deepEqual(config.tools?.[0]?.input_schema, { type: 'object' });
    assert.deepEqual(config.tool_choice, { type: 'tool', name: 'json_output' });
  });

  it('keeps user tools beside json_output and asks for any tool', () => {
    const config = convertToAnthropicTools({
      ...base,
      tools: [weatherTool],
      response_format: { type: 'json_object' },
    });
    assert.deepEqual(
      config.tools?.map((tool) => tool.name),
      ['get_weather', 'json_output'],
    );
    assert.deepEqual(config.tool_choice, { type: 'any' });
  });

  it('refuses a non-object root schema and a user tool named json_output, naming the field', () => {
    assert.throws(
      () =>
        convertToAnthropicTools({
          ...base,
          response_format: { type: 'json_schema', json_schema: { name: 'list', schema: { type: 'array' } } },
        }),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.param === 'response_format.json_schema.schema',
    );
    assert.throws(
      () =>
        convertToAnthropicTools({
          ...base,
          tools: [weatherTool, { type: 'function', function: { name: 'json_output' } }],
        }),
      (error: unknown) => PipewrightError.isInstance(error) && error.param === 'tools[1].function.name',
    );
  });
});
