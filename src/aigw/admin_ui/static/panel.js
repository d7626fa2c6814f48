/* aigw admin panel: what every page shares. Data always goes in as text (textContent), never as markup. */
"use strict";

const aigw = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const isAdmin = document.body.dataset.role === "admin";
  const VIEWER_TIP = "viewers cannot change settings";
  const SVG = "http://www.w3.org/2000/svg";
  const pages = {};

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** The JSON admin API. Every unsafe method carries the page's CSRF token. */
  async function api(path, { method = "GET", body, signal } = {}) {
    const headers = { accept: "application/json" };
    if (!["GET", "HEAD"].includes(method)) headers["x-csrf-token"] = csrf;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method, headers, signal, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.assign("/admin/login?next=" + encodeURIComponent(location.pathname));
      throw new ApiError(401, "Signed out", "sign_in");
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!response.ok) {
      const error = data && data.error ? data.error : {};
      throw new ApiError(response.status, error.message || `HTTP ${response.status}`, error.code || null);
    }
    return data;
  }

  /** An element: attributes (class, data-*, aria-*, on* handlers as functions) and children (text is text). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) {
        if (typeof value !== "function") throw new TypeError(`${name} must be a function`);  // never code as text
        node.addEventListener(name.slice(2), value);
      }
      else if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    return node;
  }

  function icon(name) {
    const node = svg("svg", { class: "icon", "aria-hidden": "true" });
    node.append(svg("use", { href: `#i-${name}` }));
    return node;
  }

  /** A button that changes something: disabled with the reason for viewers. */
  function adminButton(label, { kind = "secondary", iconName, onclick, small = true } = {}) {
    const button = el("button", { type: "button", class: `btn btn-${kind}${small ? " btn-small" : ""}`, "data-admin-only": true },
      iconName ? icon(iconName) : null, el("span", { text: label }));
    if (isAdmin) button.addEventListener("click", onclick);
    else disable(button);
    return button;
  }

  function disable(button) {
    button.disabled = true;
    button.title = VIEWER_TIP;
    button.setAttribute("aria-disabled", "true");
  }

  const fmt = {
    int: (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US")),
    num: (n, digits = 2) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits })),
    ms: (n) => (n === null || n === undefined ? "–" : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Number(n).toFixed(n < 10 ? 2 : 0)} ms`),
    usd: (n) => (n === null || n === undefined ? "–" : `$${Number(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: n < 1 ? 4 : 2 })}`),
    pct: (n) => (n === null || n === undefined ? "–" : `${(n * 100).toFixed(n < 0.1 ? 2 : 1)} %`),
    time: (iso) => (iso ? new Date(iso).toLocaleString() : "–"),
    json: (value) => (value === undefined ? "" : JSON.stringify(value)),
  };

  /** A table with sticky headers; columns: {label, value(row) -> text or Node, num}. */
  function table(columns, rows, empty = "Nothing here yet") {
    if (!rows.length) return emptyState(empty);
    const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.label })));
    const body = rows.map((row) => el("tr", {}, columns.map((c) => {
      const value = c.value(row);
      return el("td", { class: c.num ? "num" : c.cls || null }, value === null || value === undefined ? "–" : value);
    })));
    return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
  }

  function emptyState(title, hint) {
    return el("div", { class: "empty" }, icon("list"), el("p", { text: title }), hint ? el("p", { class: "small", text: hint }) : null);
  }

  function badge(text, kind = "muted") {
    return el("span", { class: `badge badge-${kind}`, text });
  }

  /** The loading / error state box of a page (`state(id)` hides it). */
  function state(id, kind = "done", message = "") {
    const box = document.getElementById(id);
    if (!box) return;
    box.className = `state state-${kind}`;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.replaceChildren(kind === "loading" ? el("span", { class: "spinner", "aria-hidden": "true" }) : null,
      kind === "error" ? icon("alert") : null, el("span", { class: "state-text", text: message }));
  }

  function toast(message, kind = "info") {
    const box = document.getElementById("toasts");
    const note = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", text: message });
    box.append(note);
    setTimeout(() => note.remove(), 5000);
  }

  /** A modal dialog built on <dialog>: resolves true when confirmed. With `typed`, the user types it first. */
  function confirmDialog({ title, text, confirmLabel = "Confirm", typed = null, danger = true }) {
    return new Promise((resolve) => {
      const input = typed ? el("input", { autocomplete: "off", spellcheck: "false", "aria-label": `Type ${typed} to confirm`, "data-confirm-input": true }) : null;
      const ok = el("button", { type: "submit", class: `btn ${danger ? "btn-danger" : "btn-primary"}`, "data-confirm-ok": true, text: confirmLabel });
      const cancel = el("button", { type: "button", class: "btn btn-ghost", text: "Cancel" });
      if (typed) ok.disabled = true;
      const form = el("form", { method: "dialog", class: "dialog-body" },
        el("h2", { text: title }), el("p", { text }),
        typed ? el("label", {}, el("span", {}, "Type ", el("code", { text: typed }), " to confirm"), input) : null,
        el("div", { class: "dialog-actions" }, cancel, ok));
      const dialog = el("dialog", { "aria-label": title }, form);
      document.body.append(dialog);
      let confirmed = false;
      if (input) input.addEventListener("input", () => { ok.disabled = input.value !== typed; });
      cancel.addEventListener("click", () => dialog.close());
      form.addEventListener("submit", () => { confirmed = !typed || input.value === typed; });
      dialog.addEventListener("close", () => { dialog.remove(); resolve(confirmed); });
      dialog.showModal();
      (input || ok).focus();
    });
  }

  /** Shows a secret once, with a copy button; it is never shown again. */
  function secretDialog(title, secret, note) {
    const field = el("input", { readonly: true, value: secret, "aria-label": "Secret", "data-secret": true });
    const copy = el("button", { type: "button", class: "btn btn-secondary", "data-copy": true }, icon("copy"), el("span", { text: "Copy" }));
    const done = el("button", { type: "submit", class: "btn btn-primary", text: "I have stored it" });
    const dialog = el("dialog", { "aria-label": title }, el("form", { method: "dialog", class: "dialog-body" },
      el("h2", { text: title }), el("p", { text: note }), el("div", { class: "secret-box" }, field, copy),
      el("div", { class: "dialog-actions" }, done)));
    copy.addEventListener("click", async () => {
      field.select();
      try { await navigator.clipboard.writeText(secret); toast("Copied to the clipboard"); } catch { document.execCommand("copy"); }
    });
    dialog.addEventListener("close", () => { field.value = ""; dialog.remove(); });
    document.body.append(dialog);
    dialog.showModal();
    field.select();
  }

  /** Runs `load` now and every `ms` while the tab is visible. */
  function every(ms, load) {
    let timer = null;
    let running = false;
    const tick = async () => {
      clearTimeout(timer);
      if (running) return;  // one load at a time: a tab shown again mid-load waits for it
      running = true;
      try { await load(); } finally { running = false; if (!document.hidden) timer = setTimeout(tick, ms); }
    };
    document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); else clearTimeout(timer); });
    tick();
  }

  async function health() {
    const badgeNode = document.getElementById("health-badge");
    try {
      const response = await fetch("/readyz", { headers: { accept: "application/json" } });
      const body = await response.json();
      const status = body.ai_enabled === false ? "AI off" : body.status;
      const kind = { ready: "ok", degraded: "warn", starting: "warn" }[body.status] || "danger";
      badgeNode.className = `badge badge-${body.ai_enabled === false ? "danger" : kind}`;
      badgeNode.textContent = status;
      badgeNode.title = body.degraded ? `circuit open: ${(body.degraded.circuit_open || []).join(", ")}` : "From /readyz";
    } catch {
      badgeNode.className = "badge badge-danger";
      badgeNode.textContent = "unreachable";
    }
  }

  async function signOut() {
    try { await api("/admin/logout", { method: "POST" }); } catch { /* signed out either way */ }
    location.assign("/admin/login");
  }

  function page(name, init) { pages[name] = init; }

  /** Marks a finished load on <body data-loads="n">: tests and tools wait for it to change. */
  function loaded() {
    document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!isAdmin) document.querySelectorAll("[data-admin-only]").forEach(disable);
    document.getElementById("sign-out")?.addEventListener("click", signOut);
    every(15000, health);
    const init = pages[document.body.dataset.page];
    if (init) init();
  });

  return { api, ApiError, el, append, svg, icon, adminButton, fmt, table, emptyState, badge, state, toast, confirmDialog, secretDialog, every, page, loaded, isAdmin };
})();
