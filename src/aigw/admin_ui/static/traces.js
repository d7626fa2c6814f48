/* Traces: search with every filter, keyset paging ("next page" follows the cursor), links to each waterfall. */
"use strict";

aigw.page("traces", () => {
  const { api, el, fmt, table, state, badge } = aigw;
  const form = document.getElementById("trace-search");
  const next = document.getElementById("next-page");
  const first = document.getElementById("first-page");
  const params = new URLSearchParams(location.search);
  const cursors = [null];

  // The form shows the search in the address bar (bookmarkable); datetime-local fields are local time.
  for (const [name, value] of params) {
    const field = form.elements.namedItem(name);
    if (field && name !== "since" && name !== "until") field.value = value;
    if (field && (name === "since" || name === "until")) field.value = toLocalInput(value);
  }
  if (!aigw.isAdmin) {
    const text = form.elements.namedItem("text");
    text.disabled = true;
    text.title = "searching the previews' text is for admins";
    text.value = "";
  }

  function toLocalInput(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    return new Date(date.getTime() - date.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  }

  function query(cursor) {
    const out = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (!value) continue;
      out.set(name, name === "since" || name === "until" ? new Date(value).toISOString() : value);
    }
    if (cursor) out.set("cursor", cursor);
    return out;
  }

  function statusBadge(trace) {
    return badge(`${trace.http_status ?? ""} ${trace.status}`.trim(), trace.status === "ok" ? "ok" : "danger");
  }

  async function load(index) {
    state("traces-state", "loading", "Searching…");
    try {
      const page = await api(`/admin/api/traces?${query(cursors[index])}`);
      document.getElementById("traces").replaceChildren(table([
        { label: "Started", value: (t) => fmt.time(t.started_at) },
        { label: "Request id", value: (t) => el("a", { class: "link-cell", href: `/admin/traces/${encodeURIComponent(t.request_id)}`, text: t.request_id }) },
        { label: "Status", value: statusBadge },
        { label: "Model", value: (t) => t.model },
        { label: "Provider", value: (t) => t.provider },
        { label: "Served by", value: (t) => t.served_by },
        { label: "Key", value: (t) => t.key_id },
        { label: "Duration", value: (t) => fmt.ms(t.duration_ms), num: true },
        { label: "Added", value: (t) => fmt.ms(t.added_latency_ms), num: true },
        { label: "Tokens", value: (t) => fmt.int((t.prompt_tokens || 0) + (t.completion_tokens || 0)), num: true },
        { label: "Cost", value: (t) => fmt.usd(t.cost_usd), num: true },
        { label: "Error", value: (t) => t.error_code },
      ], page.data, "No trace matches: successful calls are sampled (AI_TRACE_SAMPLE_RATE); errors, fallbacks and refusals are always kept"));
      cursors[index + 1] = page.next_cursor;
      cursors.length = index + 2;
      next.disabled = !page.next_cursor;
      next.dataset.index = String(index + 1);
      first.disabled = index === 0;
      document.getElementById("page-info").textContent = `Page ${index + 1} · ${page.data.length} traces`;
      state("traces-state");
      aigw.loaded();
    } catch (error) {
      state("traces-state", "error", `Search failed: ${error.message}`);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/admin/traces?${query(null)}`);
    load(0);
  });
  next.addEventListener("click", () => load(Number(next.dataset.index)));
  first.addEventListener("click", () => load(0));
  load(0);
});
