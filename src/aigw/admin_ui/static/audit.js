/* Audit log: every control-plane change, newest first, paged by entry id. */
"use strict";

aigw.page("audit", () => {
  const { api, el, fmt, table, state } = aigw;
  const PAGE_SIZE = 50;
  const older = document.getElementById("older");
  const newest = document.getElementById("newest");
  let before = null;
  let pageNumber = 1;

  function change(value) {
    if (value === null || value === undefined) return el("span", { class: "muted", text: "—" });
    const text = fmt.json(value);
    return el("code", { title: text, text: text.length > 160 ? `${text.slice(0, 160)}…` : text });
  }

  async function load() {
    state("audit-state", "loading", "Loading…");
    try {
      const query = new URLSearchParams({ limit: PAGE_SIZE });
      if (before) query.set("before", before);
      const page = await api(`/admin/api/audit?${query}`);
      document.getElementById("audit").replaceChildren(table([
        { label: "When", value: (e) => fmt.time(e.ts) },
        { label: "Who", value: (e) => e.actor },
        { label: "Action", value: (e) => el("code", { text: e.action }) },
        { label: "Target", value: (e) => el("code", { text: e.target }) },
        { label: "Before", value: (e) => change(e.old), cls: "value" },
        { label: "After", value: (e) => change(e.new), cls: "value" },
      ], page.data, "No changes recorded yet"));
      older.disabled = !page.next_before;
      older.dataset.next = page.next_before || "";
      newest.disabled = before === null;
      document.getElementById("page-info").textContent = `Page ${pageNumber}`;
      state("audit-state");
      aigw.loaded();
    } catch (error) {
      state("audit-state", "error", `Could not load the audit log: ${error.message}`);
    }
  }

  older.addEventListener("click", () => { before = older.dataset.next; pageNumber += 1; load(); });
  newest.addEventListener("click", () => { before = null; pageNumber = 1; load(); });
  load();
});
