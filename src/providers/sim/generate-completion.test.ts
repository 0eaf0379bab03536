import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTextTokens } from './count-tokens.ts';
import { generateCompletion, invalidJsonMarker } from './generate-completion.ts';
import type { SimMessage, SimPrompt } from './sim-prompt.ts';
import { weatherTools } from './sim-test-support.ts';

function user(text: string): SimMessage {
  return { role: 'user', text, imageCount: 0, toolCalls: [], toolResults: [] };
}

function prompt(messages: SimMessage[], extra: Partial<SimPrompt> = {}): SimPrompt {
  return {
    model: 'm',
    system: '',
    messages,
    tools: [],
    toolChoice: { mode: 'auto' },
    output: { type: 'text' },
    maxTokens: undefined,
    stop: [],
    n: 1,
    ...extra,
  };
}

const question = 'Why do cats purr when they are content?';

describe('generateCompletion', () => {
  it('answers in text that is labelled simulated and mentions the prompt', () => {
    const completion = generateCompletion(prompt([user(question)]), 0);
    const choice = completion.choices[0];
    assert.match(choice?.text ?? '', /^\[simulated\] /);
    assert.match(choice?.text ?? '', /cats purr/);
    assert.equal(choice?.finishReason, 'stop');
    assert.equal(choice?.outputTokens, countTextTokens(choice?.text ?? ''));
    assert.ok(completion.inputTokens > countTextTokens(question), 'input counts the message framing too');
  });

  it('gives the same answer to the same prompt and seed, another for another seed', () => {
    const text = (seed: number): string =>
      generateCompletion(prompt([user(question)]), seed).choices[0]?.text ?? '';
    assert.equal(text(1), text(1));
    assert.notEqual(text(1), text(2));
  });

  it('counts images at a fixed cost', () => {
    const plain = generateCompletion(prompt([user(question)]), 0).inputTokens;
    const withImages = generateCompletion(prompt([{ ...user(question), imageCount: 2 }]), 0).inputTokens;
    assert.equal(withImages - plain, 170);
  });

  it('stops at max tokens with finish reason length', () => {
    const choice = generateCompletion(prompt([user(question)], { maxTokens: 5 }), 0).choices[0];
    assert.equal(choice?.finishReason, 'length');
    assert.equal(choice?.outputTokens, 5);
    assert.equal(countTextTokens(choice?.text ?? ''), 5);
  });

  it('cuts the answer before the first stop sequence', () => {
    const full = generateCompletion(prompt([user(question)]), 0).choices[0]?.text ?? '';
    const choice = generateCompletion(prompt([user(question)], { stop: ['zzz', 'purr'] }), 0).choices[0];
    assert.equal(choice?.text, full.slice(0, full.indexOf('purr')));
    assert.equal(choice?.stopSequence, 'purr');
    assert.equal(choice?.finishReason, 'stop');
  });

  it('returns n different alternatives', () => {
    const completion = generateCompletion(prompt([user(question)], { n: 3 }), 0);
    assert.equal(completion.choices.length, 3);
    assert.equal(new Set(completion.choices.map((choice) => choice.text)).size, 3);
    assert.equal(
      completion.outputTokens,
      completion.choices.reduce((sum, choice) => sum + choice.outputTokens, 0),
    );
  });

  it('calls the tool whose description matches the prompt', () => {
    const choice = generateCompletion(
      prompt([user('Please send an email to Bob about the meeting')], { tools: weatherTools }),
      0,
    ).choices[0];
    assert.equal(choice?.finishReason, 'tool_calls');
    assert.equal(choice?.toolCalls[0]?.name, 'send_email');
    const weather = generateCompletion(
      prompt([user('What is the weather forecast in Oslo?')], { tools: weatherTools }),
      0,
    ).choices[0];
    assert.equal(weather?.toolCalls[0]?.name, 'get_weather');
    assert.equal(weather?.toolCalls[0]?.arguments['city'], 'Oslo');
  });

  it('honours tool choice: named, none, and the first tool when nothing matches', () => {
    const named = generateCompletion(
      prompt([user('What is the weather in Oslo?')], {
        tools: weatherTools,
        toolChoice: { mode: 'named', name: 'send_email' },
      }),
      0,
    );
    assert.equal(named.choices[0]?.toolCalls[0]?.name, 'send_email');
    const none = generateCompletion(
      prompt([user('What is the weather in Oslo?')], { tools: weatherTools, toolChoice: { mode: 'none' } }),
      0,
    );
    assert.equal(none.choices[0]?.toolCalls.length, 0);
    const unmatched = generateCompletion(
      prompt([user('Tell me a joke')], { tools: weatherTools, toolChoice: { mode: 'required' } }),
      0,
    );
    assert.equal(unmatched.choices[0]?.toolCalls[0]?.name, 'get_weather');
  });

  it('answers from a tool result once the tool has run', () => {
    const messages: SimMessage[] = [
      user('What is the weather in Oslo?'),
      {
        role: 'assistant',
        text: '',
        imageCount: 0,
        toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
        toolResults: [],
      },
      {
        role: 'tool',
        text: '',
        imageCount: 0,
        toolCalls: [],
        toolResults: [{ callId: 'call_1', name: 'get_weather', content: '{"temperature":-3,"sky":"snow"}' }],
      },
    ];
    const choice = generateCompletion(prompt(messages, { tools: weatherTools }), 0).choices[0];
    assert.equal(choice?.toolCalls.length, 0);
    assert.match(choice?.text ?? '', /get_weather/);
    assert.match(choice?.text ?? '', /"sky":"snow"/);
  });

  it('returns a JSON object when JSON is asked', () => {
    const text =
      generateCompletion(prompt([user('List facts about Mars in JSON')], { output: { type: 'json' } }), 0)
        .choices[0]?.text ?? '';
    const value = JSON.parse(text) as Record<string, unknown>;
    assert.equal(value['simulated'], true);
    assert.match(String(value['answer']), /Mars/);
  });

  it('breaks the first JSON answer with the invalid-json marker and repairs it on follow-up', () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, done: { type: 'boolean' } },
      required: ['title', 'done'],
    };
    const first = prompt([user(`Summarise the plan ${invalidJsonMarker}`)], {
      output: { type: 'json_schema', schema },
    });
    const broken = generateCompletion(first, 0).choices[0]?.text ?? '';
    assert.throws(() => JSON.parse(broken), SyntaxError);

    const asConversation = prompt(
      [
        ...first.messages,
        { role: 'assistant', text: broken, imageCount: 0, toolCalls: [], toolResults: [] },
        user('That was not valid JSON. Return only valid JSON.'),
      ],
      { output: first.output },
    );
    const repaired = JSON.parse(generateCompletion(asConversation, 0).choices[0]?.text ?? '') as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(repaired).sort(), ['done', 'title']);

    const pasted = prompt(
      [
        user(
          `Summarise the plan ${invalidJsonMarker}\nYour answer was:\n${broken}\nFix it and return valid JSON.`,
        ),
      ],
      { output: first.output },
    );
    assert.doesNotThrow(() => JSON.parse(generateCompletion(pasted, 0).choices[0]?.text ?? ''));
  });
});
