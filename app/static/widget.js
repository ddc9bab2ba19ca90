/* Shopkeeper chat widget: one script, no build step, no third-party code.
 *
 * Embed:  <script src="https://HOST/widget.js" data-tenant="your-shop" defer></script>
 * Options (data-*): tenant (shop id), api (API origin; default: where this script came from),
 *                   title (panel title), open ("true" to start open).
 * Page API: window.Shopkeeper.open(), .close(), .ask(text), .reset().
 * Cart: each card's "Add to cart" dispatches a DOM CustomEvent "shopkeeper:add-to-cart" (it
 *       bubbles to document) with detail {sku, quantity, price, currency}: the live price shown.
 *       The shop wires its own cart:
 *         document.addEventListener("shopkeeper:add-to-cart", e => myCart.add(e.detail));
 *
 * Answers stream over fetch() with a streamed body (EventSource cannot POST) and are parsed as
 * Server-Sent Events. The thread id and an opaque client id live in localStorage, so the
 * conversation survives page loads. All shopper and catalog text is set with textContent.
 */
(function () {
  "use strict";
  if (window.Shopkeeper) return; // embedded twice: keep the first

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var cfg = (script && script.dataset) || {};
  var API = (cfg.api || (script && script.src ? new URL(script.src, location.href).origin : location.origin)).replace(/\/$/, "");
  var TENANT = cfg.tenant || "demo";
  var TITLE = cfg.title || "Shop assistant";
  var KEY_CLIENT = "shopkeeper:client";
  var KEY_THREAD = "shopkeeper:" + TENANT + ":thread";

  // A status event says which graph step just finished; show what happens next.
  var STEP_TEXT = {
    understand: "Searching the catalog…", pages: "Searching the catalog…",
    retrieve: "Checking live price and stock…",
    live_lookup: "Picking the best matches…", decide: "Writing the answer…",
    respond: "Writing the answer…", llm: "Double-checking prices and stock…", verify: "Almost done…"
  };
  var BADGE = {
    in_stock: ["In stock", "ok"], low_stock: ["Low stock", "low"], out_of_stock: ["Out of stock", "out"],
    preorder: ["Pre-order", "low"], discontinued: ["Discontinued", "out"], unknown: ["Stock unknown", "unk"]
  };

  // -- storage (private browsing may refuse it: fall back to memory) ------------------------
  var memory = {};
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return memory[key] || null; } }
  function save(key, value) {
    try { if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, value); }
    catch (e) { if (value == null) delete memory[key]; else memory[key] = value; }
  }
  function clientId() {
    var id = load(KEY_CLIENT);
    if (!id || !/^[A-Za-z0-9_.:-]{8,128}$/.test(id)) {
      id = "c-" + (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") :
        Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) { return b.toString(16).padStart(2, "0"); }).join(""));
      save(KEY_CLIENT, id);
    }
    return id;
  }

  // -- SSE over a fetch body ------------------------------------------------------------------
  /** Feed decoded text; calls onEvent(type, data) per complete event; ignores ": ping" comments. */
  function sseParser(onEvent) {
    var buffer = "";
    function dispatch(block) {
      var type = "message", data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var i = line.indexOf(":");
        var field = i < 0 ? line : line.slice(0, i);
        var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      });
      if (!data.length) return;
      var payload;
      try { payload = JSON.parse(data.join("\n")); } catch (e) { payload = { text: data.join("\n") }; }
      onEvent(type, payload);
    }
    return function feed(text) {
      buffer += text.replace(/\r\n?/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    };
  }

  async function streamChat(body, onEvent, signal) {
    var res = await fetch(API + "/v1/chat/stream", {
      method: "POST", signal: signal, credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-Client-Id": clientId() },
      body: JSON.stringify(body)
    });
    if (!res.ok) throw await httpError(res);
    var reader = res.body.getReader(), decoder = new TextDecoder(), feed = sseParser(onEvent);
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      feed(decoder.decode(chunk.value, { stream: true }));
    }
    feed(decoder.decode() + "\n\n");
  }

  async function fetchThread(threadId) {
    var res = await fetch(API + "/v1/threads/" + encodeURIComponent(threadId), {
      credentials: "omit", headers: { "X-Client-Id": clientId() }
    });
    if (!res.ok) throw await httpError(res);
    return (await res.json()).messages || [];
  }

  async function httpError(res) {
    var message = "The shop assistant is unavailable (" + res.status + ").";
    try { message = (await res.json()).error.message || message; } catch (e) { /* not JSON */ }
    if (res.status === 429) {
      var wait = res.headers.get("Retry-After");
      message = "Too many questions at once" + (wait ? "; try again in " + wait + " s." : ".");
    }
    var err = new Error(message); err.status = res.status; return err;
  }

  // -- DOM helpers ----------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  /** Only http(s) links and pictures (relative ones resolve against the shop's page). */
  function safeUrl(raw) {
    if (!raw) return null;
    try {
      var u = new URL(String(raw), location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) { return null; }
  }
  function timeOf(iso) {
    var d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
  }

  var CSS = [
    ":host{all:initial;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2430}",
    "*{box-sizing:border-box}",
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:999px;padding:12px 18px;background:#1f4fd1;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launch:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #ffb000;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:min(400px,calc(100vw - 24px));height:min(620px,calc(100vh - 40px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden],.launch[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1f4fd1;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px}",
    "header button{border:0;background:transparent;color:#fff;font-size:13px;cursor:pointer;padding:6px 8px;border-radius:6px}",
    "header button:hover{background:rgba(255,255,255,.15)}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f5f7fb}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#1f4fd1;color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #dfe4ee;border-bottom-left-radius:4px}",
    ".bot.error{border-color:#d33;color:#a00}",
    ".step{font-size:12px;color:#5a6475;font-style:italic}",
    ".cards{display:flex;flex-direction:column;gap:8px;align-self:stretch}",
    ".card{background:#fff;border:1px solid #dfe4ee;border-radius:10px;padding:9px 11px;display:flex;gap:10px;align-items:flex-start}",
    ".card .body{flex:1;min-width:0}",
    ".card h3{margin:0 0 2px;font-size:14px}",
    ".card h3 a{color:#1f4fd1;text-decoration:none}.card h3 a:hover,.card h3 a:focus-visible{text-decoration:underline}",
    ".pic{width:64px;height:64px;flex:none;object-fit:contain;border-radius:8px;background:#f0f2f7}",
    ".pic.ph{display:flex;align-items:center;justify-content:center;font-size:10.5px;color:#5a6475;text-align:center}",
    ".cart{border:1px solid #1f4fd1;background:#fff;color:#1f4fd1;border-radius:8px;padding:4px 10px;font:600 12.5px system-ui,sans-serif;cursor:pointer}",
    ".cart:hover{background:#eef2ff}.cart[disabled]{opacity:.5;cursor:default}",
    ".brand{font-size:12px;color:#5a6475}",
    ".row{display:flex;align-items:center;gap:8px;flex-wrap:wrap;margin-top:5px}",
    ".price{font-weight:700;font-size:15px}",
    ".badge{font-size:12px;font-weight:600;padding:2px 8px;border-radius:999px}",
    ".badge.ok{background:#e3f6e8;color:#11632b}.badge.low{background:#fff3d6;color:#7a5200}",
    ".badge.out{background:#fde4e4;color:#9b1111}.badge.unk{background:#eceff4;color:#444}",
    ".note,.asof,.why{font-size:11.5px;color:#5a6475}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #dfe4ee;background:#fff}",
    "label.sr,.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "textarea{flex:1;resize:none;border:1px solid #b9c2d3;border-radius:8px;padding:8px;font:inherit;min-height:40px;max-height:120px}",
    "form button{border:0;border-radius:8px;background:#1f4fd1;color:#fff;font-weight:600;padding:0 14px;cursor:pointer}",
    "form button[disabled]{opacity:.5;cursor:default}",
    ".hint{font-size:11px;color:#5a6475;padding:0 12px 8px;background:#fff}"
  ].join("\n");

  // -- the widget -----------------------------------------------------------------------------
  var host = el("div", { id: "shopkeeper-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));

  var launcher = el("button", { class: "launch", type: "button", "aria-haspopup": "dialog",
    "aria-expanded": "false", "aria-controls": "sk-panel", text: "Ask the shop" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var status = el("div", { class: "sr", role: "status", "aria-live": "polite" });
  var input = el("textarea", { id: "sk-input", rows: "1", placeholder: "Ask about products, prices, stock…",
    autocomplete: "off", "aria-describedby": "sk-hint", maxlength: "2000" });
  var send = el("button", { type: "submit", text: "Send" });
  var closeBtn = el("button", { type: "button", "aria-label": "Close chat", text: "✕" });
  var newBtn = el("button", { type: "button", text: "New chat", title: "Start a new conversation" });
  var form = el("form", { "aria-label": "Ask the shop assistant" },
    [el("label", { class: "sr", for: "sk-input", text: "Your question" }), input, send]);
  var heading = el("h2", { id: "sk-title", text: TITLE });
  var panel = el("section", { class: "panel", id: "sk-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "sk-title", hidden: "" }, [
    el("header", {}, [heading, newBtn, closeBtn]), log, status, form,
    el("div", { class: "hint", id: "sk-hint", text: "Enter to send · Shift+Enter for a new line · Esc to close" })
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var busy = null; // AbortController of the answer being streamed

  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function addMessage(role, text) {
    var node = el("div", { class: "msg " + role, text: text || "" });
    log.appendChild(node); scrollDown(); return node;
  }

  /** The product's picture, lazily loaded; a labelled placeholder when there is none or it fails (offline). */
  function picture(p) {
    var placeholder = function () { return el("div", { class: "pic ph", role: "img", "aria-label": "No picture of " + (p.title || p.sku), text: "No picture" }); };
    var src = safeUrl(p.image_url);
    if (!src) return placeholder();
    var img = el("img", { class: "pic", src: src, alt: p.title || p.sku || "Product", loading: "lazy", decoding: "async", width: "64", height: "64" });
    img.addEventListener("error", function () { if (img.parentNode) img.parentNode.replaceChild(placeholder(), img); });
    return img;
  }

  /** "Add to cart": tells the host page (its cart, not ours) which SKU at the live price shown. */
  function cartButton(p) {
    var buyable = p.price != null && p.in_stock !== false;
    var button = el("button", { type: "button", class: "cart", text: "Add to cart", "aria-label": "Add " + (p.title || p.sku) + " to cart" });
    if (!buyable) { button.disabled = true; button.title = p.price == null ? "Live price unavailable" : "Out of stock"; }
    button.addEventListener("click", function () {
      host.dispatchEvent(new CustomEvent("shopkeeper:add-to-cart", {
        bubbles: true, composed: true,
        detail: { sku: p.sku, quantity: 1, price: String(p.price), currency: p.currency || null }
      }));
      status.textContent = "Asked the shop to add " + (p.title || p.sku) + " to the cart.";
    });
    return button;
  }

  function renderCards(cards) {
    var list = el("div", { class: "cards", role: "list", "aria-label": "Matching products" });
    cards.forEach(function (p) {
      var badge = BADGE[p.availability] || [String(p.availability || "unknown").replace(/_/g, " "), "unk"];
      var qty = typeof p.quantity === "number" && p.availability !== "out_of_stock" ? " · " + p.quantity + " left" : "";
      var page = safeUrl(p.url);
      var title = page ? el("a", { href: page, text: p.title || p.sku }) : document.createTextNode(p.title || p.sku);
      var card = el("article", { class: "card", role: "listitem", "data-sku": p.sku || "", "data-price": p.price == null ? "" : String(p.price) }, [
        picture(p),
        el("div", { class: "body" }, [
          el("h3", {}, [title]),
          p.brand ? el("div", { class: "brand", text: p.brand }) : null,
          el("div", { class: "row" }, [
            el("span", { class: "price", text: p.price_display || (p.price != null ? p.price + " " + (p.currency || "") : "live price unavailable") }),
            el("span", { class: "badge " + badge[1], text: badge[0] + qty }),
            cartButton(p)
          ]),
          p.why ? el("div", { class: "why", text: p.why }) : null,
          p.as_of ? el("div", { class: "asof", text: "Live price and stock as of " + timeOf(p.as_of) }) : null,
          p.stock_synthetic ? el("div", { class: "note", text: "Demo shop: stock is synthetic." }) : null
        ])
      ]);
      list.appendChild(card);
    });
    return list;
  }

  async function ask(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    open();
    busy = new AbortController();
    await restore();
    addMessage("user", text);
    input.value = "";
    send.disabled = true;
    log.setAttribute("aria-busy", "true");
    var step = el("div", { class: "step", text: "Thinking…" });
    log.appendChild(step);
    var bubble = null, answer = "", cardsShown = false, ended = false;
    function ensureBubble() { if (!bubble) { bubble = addMessage("bot", ""); } return bubble; }
    function onEvent(type, data) {
      if (type === "meta" && data.thread_id) save(KEY_THREAD, data.thread_id);
      else if (type === "status") {
        var key = data.step || data.node || "";
        step.textContent = data.message || STEP_TEXT[key] || (key ? key.replace(/_/g, " ") + "…" : "Working…");
      } else if (type === "products") {
        var cards = data.products || data.cards || [];
        if (cards.length) { log.insertBefore(renderCards(cards), step.nextSibling); cardsShown = true; scrollDown(); }
      } else if (type === "token") {
        answer += data.delta || data.text || "";
        ensureBubble().textContent = answer; scrollDown();
      } else if (type === "done") {
        ended = true;
        if (data.thread_id) save(KEY_THREAD, data.thread_id);
        if (typeof data.text === "string" && data.text) answer = data.text;
        ensureBubble().textContent = answer || "Sorry, I have no answer to that.";
        if (!cardsShown && data.products && data.products.length) log.insertBefore(renderCards(data.products), bubble);
        status.textContent = "Answer: " + (answer || "").slice(0, 300);
      } else if (type === "error") {
        ended = true;
        var b = ensureBubble(); b.classList.add("error"); b.setAttribute("role", "alert");
        b.textContent = data.message || "Something went wrong.";
      }
    }
    try {
      await streamChat({ message: text, thread_id: load(KEY_THREAD), tenant: TENANT }, onEvent, busy.signal);
      if (!ended) onEvent("error", { message: "The answer was cut off; please ask again." });
    } catch (err) {
      if (err.status === 403 || err.status === 404) { save(KEY_THREAD, null); } // thread gone: start afresh next time
      if (err.name !== "AbortError") onEvent("error", { message: err.message || "Network error; please try again." });
    } finally {
      step.remove();
      busy = null; send.disabled = false;
      log.setAttribute("aria-busy", "false");
      scrollDown();
      if (!panel.hidden) input.focus();
    }
  }

  var restoring = null;
  /** On first open, show the stored thread's earlier messages (it survives page loads). */
  function restore() { return restoring || (restoring = restoreThread()); }
  async function restoreThread() {
    var threadId = load(KEY_THREAD);
    if (!threadId) return;
    try {
      var messages = await fetchThread(threadId);
      messages.forEach(function (m) { addMessage(m.role === "user" ? "user" : "bot", m.content); });
    } catch (err) {
      if (err.status === 403 || err.status === 404) save(KEY_THREAD, null); // gone: start afresh
    }
  }

  function open() {
    if (!panel.hidden) return;
    panel.hidden = false; launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    if (!log.childNodes.length) addMessage("bot", "Hi! Ask me about products: I check live prices and stock.");
    input.focus();
    restore();
  }
  function close() {
    if (panel.hidden) return;
    panel.hidden = true; launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  function reset() {
    if (busy) busy.abort();
    save(KEY_THREAD, null);
    log.textContent = "";
    addMessage("bot", "New conversation. What are you looking for?");
    input.focus();
  }

  launcher.addEventListener("click", open);
  closeBtn.addEventListener("click", close);
  newBtn.addEventListener("click", reset);
  form.addEventListener("submit", function (e) { e.preventDefault(); ask(input.value); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); ask(input.value); }
  });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.stopPropagation(); close(); } });

  function mount() {
    document.body.appendChild(host);
    if (cfg.open === "true") open();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.Shopkeeper = { open: open, close: close, ask: ask, reset: reset, tenant: TENANT, api: API };
})();
