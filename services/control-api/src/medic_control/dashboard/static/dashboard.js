// Medic agent control: refresh server-rendered sections, follow the live feed, send commands.
// Commands go to the JSON API with the session cookie and the CSRF header (a cross-site form cannot set it).
"use strict";

(function () {
  const base = document.body.dataset.base;
  const api = "/api/v1";
  const message = document.getElementById("message");

  function say(text, kind) {
    if (!message) return;
    message.textContent = text;
    message.className = "message " + (kind || "info");
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method: method,
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-medic-csrf": "1" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const reason = data && data.error ? data.error.message : "HTTP " + response.status;
      throw new Error(reason);
    }
    return data;
  }

  async function refresh(name) {
    const section = document.querySelector('[data-fragment="' + name + '"]');
    if (!section) return;
    const response = await fetch(base + "/fragments/" + name, { credentials: "same-origin" });
    if (response.status === 401) { window.location = base + "/login"; return; }
    if (response.ok) section.innerHTML = await response.text();
  }

  let pending = null;
  function refreshSoon(names) {
    // Coalesce bursts of feed events into one refresh per section.
    pending = pending || new Set();
    names.forEach((n) => pending.add(n));
    setTimeout(() => {
      const names = pending; pending = null;
      if (names) names.forEach((n) => refresh(n));
    }, 300);
  }

  function reasonNear(el, selector) {
    const box = el.closest(".controls");
    const input = box ? box.querySelector(selector) : null;
    return input ? input.value : "";
  }

  const actions = {
    pause: (el) => call("POST", "/control/pause", { reason: reasonNear(el, "#control-reason") }).then(() => ["status"]),
    resume: (el) => call("POST", "/control/resume", { reason: reasonNear(el, "#control-reason") }).then(() => ["status"]),
    scan: (el) => call("POST", "/control/scan", { reason: reasonNear(el, "#control-reason") }).then(() => []),
    approve: (el) => call("POST", "/approvals/" + encodeURIComponent(el.dataset.id) + "/approve",
      { diff_hash: el.dataset.diffHash, reason: reasonNear(el, ".decision-reason") }).then(() => ["approvals", "issues"]),
    reject: (el) => call("POST", "/approvals/" + encodeURIComponent(el.dataset.id) + "/reject",
      { reason: reasonNear(el, ".decision-reason") }).then(() => ["approvals", "issues"]),
    rollback: (el) => {
      const reason = window.prompt("Roll back the deployed fix of " + el.dataset.id + "? Reason:");
      if (reason === null) return Promise.resolve(null);
      return call("POST", "/issues/" + encodeURIComponent(el.dataset.id) + "/rollback", { reason: reason }).then(() => ["issues"]);
    },
    "false-positive": (el) => {
      const marking = el.dataset.value !== "false";
      const reason = marking ? window.prompt("Why is " + el.dataset.id + " a false positive?") : "mark cleared";
      if (reason === null) return Promise.resolve(null);
      return call("POST", "/issues/" + encodeURIComponent(el.dataset.id) + "/false-positive",
        { false_positive: marking, reason: reason }).then(() => { window.location.reload(); return []; });
    },
    level: async (el) => {
      const current = await call("GET", "/config");
      const config = Object.assign({}, current.config, { autonomy_level: Number(document.getElementById("level-select").value) });
      const override = document.getElementById("override-reason").value.trim();
      const body = { config: config, expected_version: current.version, reason: "autonomy level changed from the dashboard" };
      if (override) body.override_reason = override;
      await call("PUT", "/config", body);
      return ["status"];
    },
  };

  document.addEventListener("click", async (event) => {
    const el = event.target.closest("[data-action]");
    if (!el || !actions[el.dataset.action]) return;
    event.preventDefault();
    el.disabled = true;
    try {
      const sections = await actions[el.dataset.action](el);
      if (sections !== null) {
        say(el.dataset.action + " done", "ok");
        sections.forEach((n) => refresh(n));
      }
    } catch (err) {
      say(el.dataset.action + " refused: " + err.message, "error");
    } finally {
      el.disabled = false;
    }
  });

  // One clock everywhere: 24-hour UTC, as the server renders its times.
  function clock(iso) {
    return new Date(iso).toISOString().slice(11, 19);
  }

  const feed = document.getElementById("feed");
  const feedState = document.getElementById("feed-state");
  if (feed && window.EventSource) {
    // The page came with the latest actions (backfilled from the audit log): follow on from the last of them.
    const after = feed.dataset.after ? "?after=" + encodeURIComponent(feed.dataset.after) : "";
    const source = new EventSource(api + "/stream" + after, { withCredentials: true });
    source.addEventListener("open", () => { feedState.textContent = "live"; feedState.className = "pill live"; });
    source.addEventListener("error", () => { feedState.textContent = "reconnecting…"; feedState.className = "pill"; });
    source.addEventListener("action", (event) => {
      const a = JSON.parse(event.data);
      if (a.event_id && feed.querySelector('[data-key="' + CSS.escape(a.event_id) + '"]')) return;
      const li = document.createElement("li");
      li.className = "status-" + a.status;
      li.dataset.key = a.event_id || "";
      const time = document.createElement("time");
      time.dateTime = a.occurred_at;
      time.textContent = clock(a.occurred_at);
      const what = document.createElement("code");
      what.textContent = a.action;
      const text = document.createElement("span");
      text.textContent = " " + a.summary + (a.issue_id ? " (" + a.issue_id + ")" : "");
      li.append(time, " ", what, text);
      feed.prepend(li);
      while (feed.children.length > 100) feed.lastChild.remove();
      refreshSoon(["issues", "approvals", "audit", "agents"]);
    });
    source.addEventListener("state", () => refreshSoon(["status"]));
  }

  const logLines = document.getElementById("log-lines");
  if (logLines) {
    const serviceSelect = document.getElementById("log-service");
    const levelSelect = document.getElementById("log-level");
    const logState = document.getElementById("log-state");
    async function loadLogs() {
      const query = "?limit=300&level=" + encodeURIComponent(levelSelect.value);
      try {
        const data = await call("GET", "/agents/" + encodeURIComponent(serviceSelect.value) + "/logs" + query);
        const rows = data.lines.slice().reverse().map((line) => {
          const tr = document.createElement("tr");
          tr.className = "log-" + line.level;
          const cells = [clock(line.ts), line.level, line.logger, line.msg];
          cells.forEach((text) => { const td = document.createElement("td"); td.textContent = text; tr.append(td); });
          return tr;
        });
        logLines.replaceChildren(...rows);
        logState.textContent = data.lines.length + " lines from " + (data.instance || data.service);
        logState.className = "pill live";
      } catch (err) {
        logState.textContent = err.message;
        logState.className = "pill bad";
      }
    }
    serviceSelect.addEventListener("change", loadLogs);
    levelSelect.addEventListener("change", loadLogs);
    loadLogs();
    setInterval(loadLogs, 5000);
  }

  document.querySelectorAll("[data-refresh]").forEach((section) => {
    const seconds = Number(section.dataset.refresh);
    setInterval(() => refresh(section.dataset.fragment), seconds * 1000);
  });
})();
