// The AI SDK's own Chat + DefaultChatTransport (what useChat runs) against /v1/chat/ui.
// Driven by tests/app/test_protocol_clients.py, which starts the server, passes its URL in
// SHOPKEEPER_URL and checks the prices written to SHOPKEEPER_OUT against the system of record.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { AbstractChat, DefaultChatTransport } from "ai";

const BASE = process.env.SHOPKEEPER_URL;
const OUT = process.env.SHOPKEEPER_OUT;
const CLIENT = "client-node-aisdk-1";

/** The in-memory ChatState a UI framework binding (React, Vue, Svelte) would provide. */
class MemoryState {
  status = "ready";
  error = undefined;
  messages = [];
  pushMessage = (m) => { this.messages = this.messages.concat(m); };
  popMessage = () => { this.messages = this.messages.slice(0, -1); };
  replaceMessage = (i, m) => { this.messages = [...this.messages.slice(0, i), this.snapshot(m), ...this.messages.slice(i + 1)]; };
  snapshot = (v) => structuredClone(v);
}

class NodeChat extends AbstractChat {
  constructor(options) { super({ ...options, state: new MemoryState() }); }
  get messages() { return this.state.messages; }
}

function chat(clientId, id) {
  return new NodeChat({
    id,
    transport: new DefaultChatTransport({ api: BASE + "/v1/chat/ui", headers: { "X-Client-Id": clientId } }),
  });
}

const text = (m) => m.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
const products = (m) => m.parts.filter((p) => p.type === "data-product");

test("two turns with useChat's transport: text, live product parts, sources, tool parts", async () => {
  const c = chat(CLIENT);
  await c.sendMessage({ text: "HP USB Optical 3-button Mouse" });
  assert.equal(c.status, "ready", String(c.error));
  const first = c.messages.at(-1);
  assert.equal(first.role, "assistant");
  assert.ok(text(first).length > 20, "the answer text arrived as text deltas");
  assert.equal(first.metadata.thread_id, c.id, "the chat id is the thread");
  assert.equal(first.metadata.grounded, true);

  const cards = products(first);
  assert.ok(cards.length >= 1);
  for (const p of cards) {
    assert.equal(p.id, p.data.sku, "one data part per SKU");
    for (const key of ["price", "currency", "availability", "as_of", "image_url", "url"]) {
      assert.ok(key in p.data, `data-product has ${key}`);
    }
    assert.match(p.data.url, /^https:\/\/shop\.example\/p\//);
  }
  const sources = first.parts.filter((p) => p.type === "source-document");
  assert.ok(sources.some((s) => s.sourceId === `sor:${cards[0].data.sku}:price`));
  const search = first.parts.find((p) => p.type === "tool-search");
  assert.equal(search.state, "output-available");
  assert.ok(search.input.query);
  assert.ok(search.output.candidates >= 1);
  const live = first.parts.find((p) => p.type === "tool-live_offers");
  assert.equal(live.output.live, "ok");
  assert.ok(live.input.skus.includes(cards[0].data.sku));
  assert.ok(first.parts.filter((p) => p.type === "step-start").length >= 5, "one step per graph node");

  await c.sendMessage({ text: "is it in stock?" });
  assert.equal(c.status, "ready", String(c.error));
  assert.equal(c.messages.length, 4);
  const second = c.messages.at(-1);
  assert.equal(second.metadata.thread_id, c.id, "the second turn continues the same thread");
  assert.ok(text(second).length > 10);
  writeFileSync(OUT, JSON.stringify({ chatId: c.id, clientId: CLIENT, messages: c.messages }));
});

test("another client cannot continue the thread (403 from the server)", async () => {
  const mine = chat(CLIENT);
  await mine.sendMessage({ text: "usb flash drive" });
  assert.equal(mine.status, "ready", String(mine.error));
  const theirs = chat("client-node-intruder", mine.id);
  await theirs.sendMessage({ text: "usb flash drive" });
  assert.equal(theirs.status, "error");
  assert.match(String(theirs.error.message), /forbidden|another/);
});
