// @ag-ui/client's HttpAgent against /v1/agui: the event order and the state snapshot.
// Driven by tests/app/test_protocol_clients.py (SHOPKEEPER_URL, SHOPKEEPER_ASSIST_KEY, SHOPKEEPER_OUT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { HttpAgent } from "@ag-ui/client";

const BASE = process.env.SHOPKEEPER_URL;
const KEY = process.env.SHOPKEEPER_ASSIST_KEY;
const OUT = process.env.SHOPKEEPER_OUT;

function agent(threadId, key = KEY) {
  return new HttpAgent({ url: BASE + "/v1/agui", headers: { "X-API-Key": key }, threadId });
}

async function run(a, runId) {
  const types = [];
  const result = await a.runAgent({ runId }, { onEvent({ event }) { types.push(event.type); } });
  return { types, result };
}

test("a run streams in AG-UI order and ends with the evidence in a state snapshot", async () => {
  const a = agent("agui-thread-1");
  a.addMessage({ id: "u-1", role: "user", content: "Customer asks: is the HP USB Optical 3-button Mouse in stock?" });
  const { types } = await run(a, "run-1");
  assert.equal(types[0], "RUN_STARTED");
  assert.equal(types.at(-1), "RUN_FINISHED");
  assert.ok(!types.includes("RAW"), "RAW events would expose internals");
  assert.ok(!types.includes("RUN_ERROR"));
  const at = (t) => types.indexOf(t);
  assert.ok(at("STEP_STARTED") > 0 && at("STEP_STARTED") < at("STEP_FINISHED"));
  assert.ok(at("TOOL_CALL_START") < at("TOOL_CALL_ARGS") && at("TOOL_CALL_ARGS") < at("TOOL_CALL_END"));
  assert.ok(at("TOOL_CALL_END") < at("TOOL_CALL_RESULT"));
  assert.ok(at("TEXT_MESSAGE_START") < at("TEXT_MESSAGE_CONTENT"));
  assert.ok(at("TEXT_MESSAGE_END") < at("STATE_SNAPSHOT") && at("STATE_SNAPSHOT") < at("RUN_FINISHED"));
  assert.equal(types.filter((t) => t === "STEP_STARTED").length, types.filter((t) => t === "STEP_FINISHED").length);

  const s = a.state;
  assert.equal(s.thread_id, "agui-thread-1");
  assert.ok(s.products.length >= 1 && s.evidence.length >= 1);
  assert.ok(s.trace.map((t) => t.node).includes("live_lookup"));
  const shown = s.evidence.find((e) => e.shown);
  assert.ok(shown.live.price && shown.live.warehouses, "live price and per-warehouse stock");
  const reply = a.messages.filter((m) => m.role === "assistant").at(-1);
  assert.ok(reply.content.length > 10, "the reply text was assembled from TEXT_MESSAGE_CONTENT");

  // The second run on the same thread: the client sends our snapshot back as its state.
  a.addMessage({ id: "u-2", role: "user", content: "and how much is it?" });
  const second = await run(a, "run-2");
  assert.equal(second.types.at(-1), "RUN_FINISHED");
  writeFileSync(OUT, JSON.stringify({ state: a.state, messages: a.messages, types }));
});

test("a wrong key is refused before any event", async () => {
  const a = agent("agui-thread-2", "not-a-key");
  a.addMessage({ id: "u-1", role: "user", content: "hello" });
  await assert.rejects(run(a, "run-x"), /401|key/i);
});
