/* Policies and budgets (read-only): limits in force, every capped budget against its cap, per-key limits. */
"use strict";

aigw.page("policy", () => {
  const { api, el, fmt, table, state, emptyState } = aigw;
  const LIMIT_LABELS = {
    rate_limit_per_user: ["Requests per minute, per key/user", (v) => (v ? fmt.int(v) : "no limit")],
    rate_limit_per_ip: ["Requests per minute, per client IP", (v) => (v ? fmt.int(v) : "no limit")],
    max_request_cost: ["Most one request may cost", (v) => (v === null ? "no limit" : fmt.usd(v))],
    reserve_output_tokens: ["Output tokens held under a budget", fmt.int],
    budget_fail_closed: ["Budget store away", (v) => (v ? "refuse calls" : "let calls through")],
    max_prompt_tokens: ["Most prompt tokens", (v) => (v ? fmt.int(v) : "no limit")],
    prompt_overflow: ["Prompt over its budget", (v) => (v === "reject" ? "refused (400)" : "oldest messages dropped")],
    pii_mode: ["Personal data", String],
    cache_enabled: ["Response cache", (v) => (v ? "on" : "off")],
    cache_ttl: ["Cache lifetime", (v) => `${fmt.int(v)} s`],
    cache_scope: ["Cache shared", (v) => (v === "global" ? "by every key" : "per key")],
  };

  function limits(policy) {
    const list = document.getElementById("limits");
    list.replaceChildren();
    for (const [name, [label, show]] of Object.entries(LIMIT_LABELS)) {
      if (!(name in policy.limits)) continue;
      list.append(el("dt", { text: label }), el("dd", { text: show(policy.limits[name]) }));
    }
  }

  function scopeLabel(scope) {
    const [kind, ...rest] = scope.split(":");
    const name = rest.join(":");
    return kind === "global" ? "Whole gateway" : kind === "key" ? `Key ${name}` : `User ${name}`;
  }

  function budgets(policy) {
    const box = document.getElementById("budgets");
    if (!policy.budgets.length) {
      box.replaceChildren(emptyState("No budget is capped", "Set AI_BUDGET_DAILY / AI_BUDGET_MONTHLY, or a key's own budget."));
      return;
    }
    box.replaceChildren(...policy.budgets.map((row) => {
      if (row.error) return el("div", { class: "budget" }, el("div", { class: "budget-head" }, el("span", { text: scopeLabel(row.scope) }), el("span", { class: "amount", text: `unreadable: ${row.error}` })));
      const percent = row.cap_usd ? (100 * row.spent_usd) / row.cap_usd : 0;
      const held = row.cap_usd ? (100 * row.reserved_usd) / row.cap_usd : 0;
      const fill = el("div", { class: `meter-fill${percent >= 100 ? " danger" : percent >= 80 ? " warn" : ""}` });
      fill.style.width = `${Math.min(percent, 100)}%`;
      const heldBar = el("div", { class: "meter-held" });
      heldBar.style.width = `${Math.min(held, Math.max(100 - percent, 0))}%`;
      return el("div", { class: "budget", "data-scope": row.scope },
        el("div", { class: "budget-head" },
          el("span", {}, el("strong", { text: scopeLabel(row.scope) }), " ", el("span", { class: "muted", text: row.period })),
          el("span", { class: "amount", text: `${fmt.usd(row.spent_usd)} of ${fmt.usd(row.cap_usd)}${row.reserved_usd ? ` (+${fmt.usd(row.reserved_usd)} held)` : ""} · ${fmt.num(percent, 1)} %` })),
        el("div", { class: "meter", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(percent), "aria-label": `${scopeLabel(row.scope)} budget used` }, fill, heldBar));
    }));
  }

  function keyLimits(policy) {
    document.getElementById("key-limits").replaceChildren(table([
      { label: "Key", value: (k) => el("code", { text: k.prefix }) },
      { label: "Name", value: (k) => k.name },
      { label: "User", value: (k) => k.user },
      { label: "Models", value: (k) => (k.models ? k.models.join(", ") : "every model") },
      { label: "RPM", value: (k) => (k.rpm ? fmt.int(k.rpm) : "default"), num: true },
      { label: "TPM", value: (k) => (k.tpm ? fmt.int(k.tpm) : "none"), num: true },
      { label: "Daily budget", value: (k) => fmt.usd(k.budget_daily), num: true },
      { label: "Monthly budget", value: (k) => fmt.usd(k.budget_monthly), num: true },
      { label: "Expires", value: (k) => (k.expires_at ? fmt.time(k.expires_at) : "never") },
    ], policy.keys.filter((k) => !k.revoked), "No virtual keys yet"));
  }

  async function load() {
    try {
      const policy = await api("/admin/api/policy");
      limits(policy);
      budgets(policy);
      keyLimits(policy);
      state("policy-state");
      aigw.loaded();
    } catch (error) {
      state("policy-state", "error", `Could not load the policy: ${error.message}`);
    }
  }

  document.getElementById("export-form").addEventListener("submit", (event) => {
    // Dates as UTC day starts; empty fields are left out so the server's defaults apply.
    event.preventDefault();
    const form = new FormData(event.target);
    const query = new URLSearchParams({ by: form.get("by") });
    for (const name of ["since", "until"]) if (form.get(name)) query.set(name, `${form.get(name)}T00:00:00Z`);
    location.assign(`/admin/api/usage/export.csv?${query}`);
  });
  aigw.every(15000, load);
});
