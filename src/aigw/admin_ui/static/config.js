/* Configuration: every value in force with its source, read-only, filterable. */
"use strict";

aigw.page("config", () => {
  const { api, el, fmt, table, state, badge } = aigw;
  const GROUPS = { settings: "Process settings (AI_*)", policy: "Policy (changeable at run time)", routing: "Providers and routing" };
  const SOURCES = { runtime: ["runtime override", "accent"], environment: ["environment", "info"], ".env": [".env file", "info"], yaml: ["YAML file", "warn"], code: ["code", "muted"], default: ["default", "muted"] };
  const filter = document.getElementById("config-filter");
  const sourceFilter = document.getElementById("config-source");
  let values = [];

  function sourceBadge(source) {
    const [label, kind] = SOURCES[source] || [source, "muted"];
    return badge(label, kind);
  }

  function shown(value) {
    const text = fmt.json(value);
    return el("span", { title: text.length > 300 ? text.slice(0, 2000) : null, text: text.length > 300 ? `${text.slice(0, 300)}…` : text });
  }

  function render() {
    const needle = filter.value.trim().toLowerCase();
    const source = sourceFilter.value;
    const box = document.getElementById("config-groups");
    box.replaceChildren();
    for (const [group, title] of Object.entries(GROUPS)) {
      const rows = values.filter((v) => v.group === group && (!source || v.source === source)
        && (!needle || v.name.toLowerCase().includes(needle) || (v.env || "").toLowerCase().includes(needle)));
      box.append(el("section", { class: "card", "data-group": group }, el("h2", { text: `${title} · ${rows.length}` }), table([
        { label: "Name", value: (v) => el("code", { text: v.name }) },
        { label: "Variable", value: (v) => (v.env ? el("code", { text: v.env }) : null) },
        { label: "Value", value: (v) => shown(v.value), cls: "value" },
        { label: "Source", value: (v) => el("span", { "data-source": v.source }, sourceBadge(v.source), v.shadows.length ? el("span", { class: "muted small", text: ` hides ${v.shadows.join(", ")}` }) : null) },
      ], rows, "Nothing matches the filter")));
    }
  }

  async function load() {
    try {
      values = (await api("/admin/api/config/sources")).data;
      render();
      state("config-state");
      aigw.loaded();
    } catch (error) {
      state("config-state", "error", `Could not load the configuration: ${error.message}`);
    }
  }

  filter.addEventListener("input", render);
  sourceFilter.addEventListener("change", render);
  load();
});
