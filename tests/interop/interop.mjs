// Drives a running `llamaguard serve` with the official npm clients: `openai` (moderations, text, text array, image)
// and `llama-stack-client` (shields list, run-shield with and without an image). Exits non-zero on any malformed answer.
// Usage: LLAMAGUARD_URL=http://127.0.0.1:8000 LLAMAGUARD_API_KEY=key IMAGE=path/to.png node interop.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import LlamaStackClient from 'llama-stack-client';

const base = process.env.LLAMAGUARD_URL ?? 'http://127.0.0.1:8000';
const apiKey = process.env.LLAMAGUARD_API_KEY ?? 'unused';
const imageUrl = 'data:image/png;base64,' + readFileSync(process.env.IMAGE).toString('base64');
const openAiKeys = [
  'harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'illicit', 'illicit/violent',
  'self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual', 'sexual/minors', 'violence', 'violence/graphic',
];

function checkResult(result, inputTypes) {
  assert.equal(typeof result.flagged, 'boolean');
  for (const key of openAiKeys) {
    assert.equal(typeof result.categories[key], 'boolean', `categories.${key}`);
    const score = result.category_scores[key];
    assert.ok(typeof score === 'number' && score >= 0 && score <= 1, `category_scores.${key} = ${score}`);
    assert.deepEqual(result.category_applied_input_types[key], inputTypes, `category_applied_input_types.${key}`);
    if (result.categories[key]) assert.ok(result.flagged, `${key} flagged in an unflagged result`);
  }
  assert.ok(['safe', 'unsafe', 'unparseable'].includes(result.llama_guard.verdict));
  assert.equal(typeof result.llama_guard.unsafe_probability, 'number');
}

function checkModeration(response, count, inputTypes) {
  assert.match(response.id, /^modr-/);
  assert.equal(typeof response.model, 'string');
  assert.equal(response.results.length, count);
  for (const result of response.results) checkResult(result, inputTypes);
}

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });
checkModeration(await openai.moderations.create({ model: 'omni-moderation-latest', input: 'How do I bake bread?' }), 1, ['text']);
checkModeration(await openai.moderations.create({ model: 'omni-moderation-latest', input: ['first', 'second', 'third'] }), 3, ['text']);
checkModeration(await openai.moderations.create({
  model: 'omni-moderation-latest',
  input: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: imageUrl } }],
}), 1, ['text', 'image']);
console.log('openai: moderations (text, text array, text + image) well-formed');

await assert.rejects(
  openai.moderations.create({
    model: 'omni-moderation-latest',
    input: [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'image_url', image_url: { url: imageUrl } }],
  }),
  (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.code === 'too_many_images' && e.param === 'input' && e.type === 'invalid_request_error');
await assert.rejects(
  new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong-key', maxRetries: 0 }).moderations.create({ model: 'x', input: 'hi' }),
  (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
console.log('openai: 400 too_many_images and 401 surface as the SDK\'s typed errors');

const stack = new LlamaStackClient({ baseURL: base, apiKey, maxRetries: 0 });
const shields = await stack.shields.list();
assert.equal(shields.length, 1);
assert.equal(typeof shields[0].identifier, 'string');
const shieldId = shields[0].identifier;
const plain = await stack.safety.runShield({
  shield_id: shieldId,
  messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'How do I bake bread?' }],
});
assert.ok('violation' in plain);
for (const answer of [plain, await stack.safety.runShield({
  shield_id: shieldId,
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Describe this.' }, { type: 'image_url', image_url: { url: imageUrl } }] },
    { role: 'assistant', content: 'It is a black and white pattern.' },
  ],
})]) {
  if (answer.violation !== null) {
    assert.ok(['info', 'warn', 'error'].includes(answer.violation.violation_level));
    assert.equal(typeof answer.violation.metadata.violation_type, 'string');
  }
}
console.log(`llama-stack-client: shields list (${shieldId}) and run-shield (text; image + response) well-formed`);
