/* Flags and the kill switch: a change asks for the flag's name to be typed, is audited, and reaches every replica within seconds. */
"use strict";

aigw.page("flags", () => {
  const { api, el, table, state, badge, adminButton, confirmDialog, toast } = aigw;
  const DESCRIPTIONS = {
    ai_enabled: "Master switch: off refuses every provider call (the kill switch)",
    chat_enabled: "Chat completions",
    embeddings_enabled: "Embeddings",
  };
  const killCard = document.getElementById("kill-switch");
  const killButton = document.getElementById("kill-toggle");
  let aiEnabled = true;

  async function flip(name, enabled) {
    const confirmed = await confirmDialog({
      title: `${enabled ? "Turn on" : "Turn off"} ${name}?`,
      text: name === "ai_enabled" && !enabled
        ? "Every provider call on every replica is refused with 503 within seconds, until it is turned on again. The change is recorded in the audit log."
        : "The change reaches every replica within seconds and is recorded in the audit log.",
      confirmLabel: enabled ? "Turn on" : "Turn off",
      typed: name,
      danger: !enabled,
    });
    if (!confirmed) return;
    try {
      await api(`/admin/api/flags/${encodeURIComponent(name)}`, { method: "PUT", body: { enabled } });
      toast(`${name} is ${enabled ? "on" : "off"}; every replica follows within seconds`);
    } catch (error) {
      toast(`Not changed: ${error.message}`, "error");
    }
    load();
  }

  function killSwitch(enabled) {
    aiEnabled = enabled;
    killCard.classList.toggle("on", enabled);
    killCard.classList.toggle("off", !enabled);
    killCard.dataset.enabled = String(enabled);
    document.getElementById("kill-state").textContent = enabled ? "on" : "OFF — provider calls are refused";
    killButton.querySelector("span").textContent = enabled ? "Turn AI traffic off" : "Turn AI traffic on";
    killButton.className = `btn ${enabled ? "btn-danger" : "btn-primary"}`;
  }

  async function load() {
    try {
      const flags = await api("/admin/api/flags");
      killSwitch(flags.effective.ai_enabled !== false);
      const rows = Object.keys(flags.effective).sort().map((name) => ({ name, enabled: flags.effective[name], stored: flags.stored[name] }));
      document.getElementById("flags").replaceChildren(table([
        { label: "Flag", value: (f) => el("code", { text: f.name }) },
        { label: "What it does", value: (f) => DESCRIPTIONS[f.name] || "" },
        { label: "State", value: (f) => badge(f.enabled ? "on" : "off", f.enabled ? "ok" : "danger") },
        { label: "Set by", value: (f) => (f.stored === undefined ? "environment default" : "runtime (database)") },
        { label: "", value: (f) => { const b = adminButton(f.enabled ? "Turn off" : "Turn on", { onclick: () => flip(f.name, !f.enabled) }); b.dataset.flag = f.name; return b; } },
      ], rows, "No flags"));
      state("flags-state");
      aigw.loaded();
    } catch (error) {
      state("flags-state", "error", `Could not load the flags: ${error.message}`);
    }
  }

  killButton.addEventListener("click", () => { if (aigw.isAdmin) flip("ai_enabled", !aiEnabled); });
  aigw.every(10000, load);
});
