// monerosim live dashboard: polls the REST API once a second (no framework, no build step).
"use strict";

const $ = (id) => document.getElementById(id);
let cursor = 0;
const recent = [];
const history = {}; // node -> [[t, height], ...] (sampled from /api/agents polls)
const MAX_ROWS = 25;

function fmtTime(s) {
  if (s === null || s === undefined) return "–";
  if (s >= 3600) return (s / 3600).toFixed(2) + " h";
  if (s >= 60) return (s / 60).toFixed(1) + " min";
  return s.toFixed(1) + " s";
}
const fmtNum = (n) => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US", {maximumFractionDigits: 0});

async function getJSON(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + " → " + r.status);
  return r.json();
}

function showStatus(s) {
  const run = s.run || {};
  const state = s.state || "idle";
  const badge = $("state");
  badge.textContent = state;
  badge.className = "badge " + state;
  $("scenario").textContent = run.scenario || "–";
  $("backend").textContent = run.backend ? run.backend + " / " + run.seed : "–";
  $("test").textContent = run.test || "–";
  $("simtime").textContent = fmtTime(run.sim_time) + (run.duration ? " of " + fmtTime(run.duration) : "");
  $("progress").value = run.duration ? Math.min(1, (run.sim_time || 0) / run.duration) : 0;
  // the simulator reports its event count every 200k events; until then there is nothing to show
  $("events").textContent = run.events ? fmtNum(run.events) : "–";
  $("rate").textContent = run.rate ? fmtNum(run.rate) : "–";
  $("eta").textContent = state === "running" && run.eta_s !== null && run.eta_s !== undefined ? fmtTime(run.eta_s) : "–";
  $("height").textContent = s.height.min === s.height.max ? s.height.max : s.height.min + " … " + s.height.max;
  $("agents-count").textContent = s.agents + " (" + s.nodes + " nodes)";
  $("runs").textContent = s.runs_finished;
  return run.sim_time || 0;
}

function showAgents(list, simTime) {
  const body = $("agents").querySelector("tbody");
  const shown = list.filter((a) => !a.honest || a.role === "attacker" || a.kind !== "node")
    .concat(list.filter((a) => a.honest && a.role !== "attacker" && a.kind === "node")).slice(0, MAX_ROWS);
  const rows = shown.map((a) => {
    const cls = (!a.honest || a.role === "attacker") ? ' class="attacker"' : "";
    return `<tr${cls}><td>${a.id}</td><td>${a.kind}</td><td>${a.role}</td><td>${a.group}</td><td>${a.state}</td>` +
      `<td>${a.height}</td><td>${a.peers}</td><td>${a.blocks_found}</td><td>${a.reorgs}</td></tr>`;
  });
  if (list.length > shown.length) {
    rows.push(`<tr><td colspan="9" class="data">… ${list.length - shown.length} more (GET /api/agents)</td></tr>`);
  }
  body.innerHTML = rows.join("");
  for (const a of list) {
    if (a.kind !== "node") continue;
    const h = history[a.id] || (history[a.id] = []);
    if (!h.length || h[h.length - 1][1] !== a.height || h[h.length - 1][0] > simTime) h.push([simTime, a.height]);
  }
  drawHeights(list.filter((a) => a.kind === "node"), simTime);
}

function drawHeights(nodes, simTime) {
  const c = $("heights"), g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const pad = 30, w = c.width - pad - 8, h = c.height - pad - 8;
  const maxH = Math.max(1, ...nodes.map((n) => n.height));
  // bars: one per node (sorted by name), attackers in red
  const n = Math.max(1, nodes.length);
  const bw = w / n;
  g.fillStyle = "#333"; g.font = "11px sans-serif";
  g.fillText(String(maxH), 2, 14); g.fillText("0", 2, pad + h - 20 + 8);
  nodes.forEach((node, i) => {
    const bh = (node.height / maxH) * (h - 20);
    g.fillStyle = (!node.honest || node.role === "attacker") ? "#d62728" : "#1f77b4";
    g.fillRect(pad + i * bw, pad + h - 20 - bh, Math.max(1, bw - 1), bh);
  });
  g.strokeStyle = "#999"; g.beginPath(); g.moveTo(pad, pad + h - 20); g.lineTo(pad + w, pad + h - 20); g.stroke();
  const lag = nodes.filter((x) => x.height < maxH).length;
  $("heights-note").textContent = nodes.length ? `${nodes.length} nodes at t=${fmtTime(simTime)}; ` +
    `${lag} behind the best height ${maxH}` : "no nodes yet";
}

async function pollEvents() {
  const data = await getJSON(`/api/events?since=${cursor}&limit=500`);
  cursor = data.next;
  for (const e of data.events) recent.push(e);
  while (recent.length > 40) recent.shift();
  $("events-table").querySelector("tbody").innerHTML = recent.slice().reverse().map((e) =>
    `<tr><td>${e.seq}</td><td>${e.time === null ? "" : e.time.toFixed(1)}</td><td>${e.kind}</td>` +
    `<td>${e.agent || ""}</td><td class="data">${JSON.stringify(e.data || {})}</td></tr>`).join("");
}

async function tick() {
  try {
    const status = await getJSON("/api/status");
    if (cursor === 0) cursor = Math.max(0, status.events - 5000); // start with the recent past
    const t = showStatus(status);
    const agents = await getJSON("/api/agents");
    showAgents(agents.agents, t);
    await pollEvents();
    document.body.dataset.ready = "1";
  } catch (err) {
    $("state").textContent = "offline";
    $("state").className = "badge failed";
  }
}

document.querySelectorAll("#controls button").forEach((b) => b.addEventListener("click", async () => {
  const cmd = b.dataset.cmd;
  const body = {command: cmd, args: cmd === "step" ? {seconds: 60} : {}};
  const r = await fetch("/api/agents/sim/command", {method: "POST", headers: {"Content-Type": "application/json"},
                                                    body: JSON.stringify(body)});
  const j = await r.json();
  $("cmd-result").textContent = r.ok ? `${cmd}: ok` : `${cmd}: ${j.error}`;
  tick();
}));

tick();
setInterval(tick, 1000);
