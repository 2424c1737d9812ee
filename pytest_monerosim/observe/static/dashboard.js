// monerosim live dashboard: polls the REST API (no build step). Charts: uPlot; graphs: cytoscape.js
// (both vendored under /static/vendor). Every call carries the run's token from the page's meta tag.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN = (document.querySelector('meta[name="monerosim-token"]') || {}).content || "";
const HEADERS = {"Authorization": "Bearer " + TOKEN};
const PAGE = 50;
let cursor = 0, agentPage = 0, txPage = 0, selected = null, lastStatus = null;
const recent = [];
const charts = {};
let graph = null, graphKey = "", tree = null, treeKey = "";

const esc = (s) => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
  (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

function fmtTime(s) {
  if (s === null || s === undefined) return "–";
  if (s >= 3600) return (s / 3600).toFixed(2) + " h";
  if (s >= 60) return (s / 60).toFixed(1) + " min";
  return s.toFixed(1) + " s";
}
const fmtNum = (n) => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US", {maximumFractionDigits: 0});
const xmr = (a) => (a === null || a === undefined) ? "–" : (a / 1e12).toFixed(4);

async function getJSON(path) {
  const r = await fetch(path, {cache: "no-store", headers: HEADERS});
  if (!r.ok) throw new Error(path + " → " + r.status);
  return r.json();
}
async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {...HEADERS, "Content-Type": "application/json"},
                               body: JSON.stringify(body)});
  return [r.ok, await r.json()];
}

// -- status, controls, replay slider ------------------------------------------------------------
function showStatus(s) {
  lastStatus = s;
  const run = s.run || {};
  const state = s.state || "idle";
  $("state").textContent = state;
  $("state").className = "badge " + state;
  $("scenario").textContent = run.scenario || "–";
  $("backend").textContent = run.backend ? run.backend + " / seed " + run.seed : "–";
  $("simtime").textContent = fmtTime(run.sim_time) + (run.duration ? " of " + fmtTime(run.duration) : "");
  $("progress").value = run.duration ? Math.min(1, (run.sim_time || 0) / run.duration) : 0;
  $("rate").textContent = run.backend === "sim" && run.rate ? fmtNum(run.rate) + " events/s" : "";
  $("height").textContent = s.height.min === s.height.max ? s.height.max : s.height.min + " … " + s.height.max;
  $("agents-count").textContent = `${s.nodes} nodes, ${s.wallets} wallets`;
  const reasons = new Set();
  document.querySelectorAll("#controls button[data-cmd]").forEach((b) => {
    const c = (s.controls || {})[b.dataset.cmd] || {available: false, reason: "unknown"};
    b.disabled = !c.available;
    b.title = c.available ? "" : c.reason;
    if (!c.available && c.reason) reasons.add(c.reason);
  });
  $("control-reason").textContent = reasons.size ? "controls off: " + [...reasons].join("; ") : "";
  const rp = s.replay;
  $("replay").hidden = !rp;
  if (rp) {
    const sl = $("slider");
    sl.max = Math.ceil(rp.end);
    if (document.activeElement !== sl) sl.value = Math.round(rp.at);
    $("replay-at").textContent = `${fmtTime(rp.at)} of ${fmtTime(rp.end)} (${rp.source})`;
  }
  return run.sim_time || 0;
}

document.querySelectorAll("#controls button[data-cmd]").forEach((b) => b.addEventListener("click", async () => {
  const cmd = b.dataset.cmd;
  const [ok, j] = await post("/api/run/command", {command: cmd, args: cmd === "step" ? {seconds: 60} : {}});
  $("cmd-result").textContent = ok ? `${cmd}: ok` : `${cmd}: ${j.error}`;
  document.body.dataset.lastCommand = cmd + (ok ? ":ok" : ":error");
  tick();
}));
$("slider").addEventListener("change", async (e) => {
  const [ok, j] = await post("/api/run/command", {command: "seek", args: {time: Number(e.target.value)}});
  $("cmd-result").textContent = ok ? `at ${fmtTime(j.result.time)}` : j.error;
  cursor = 0; recent.length = 0; graphKey = ""; treeKey = "";
  tick();
});

// -- time series (uPlot) ------------------------------------------------------------------------
const COLORS = ["#1f77b4", "#2a9d4a", "#9467bd", "#d62728", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
function chart(id, labels, data) {
  const el = $(id);
  const width = Math.max(200, el.clientWidth || 300);
  const key = labels.join("|");
  if (!charts[id] || charts[id].key !== key) {
    if (charts[id]) charts[id].plot.destroy(); else el.innerHTML = "";
    const series = [{label: "t (s)"}].concat(labels.map((l, i) => ({
      label: l, stroke: l.startsWith("attacker") ? "#d62728" : COLORS[i % COLORS.length], width: 1.5,
      spanGaps: true, points: {show: false}})));
    const opts = {width, height: 150, series, legend: {show: true, live: false}, cursor: {drag: {x: true, y: false}},
                  scales: {x: {time: false}}, axes: [{space: 70, values: (u, v) => v.map((x) => fmtTime(x))}, {}]};
    charts[id] = {key, plot: new uPlot(opts, data, el)};
  } else {
    charts[id].plot.setData(data);
  }
  el.dataset.points = String(data[0].length);
}

function showSeries(s) {
  const c = s.columns, t = c.time;
  $("series-note").textContent = `${s.count} samples`;
  if (!t.length) return;
  chart("c-height", ["min", "median", "max", "attackers"],
        [t, c.height_min, c.height_median, c.height_max, c.height_attacker]);
  chart("c-peers", ["peers"], [t, c.peers_mean]);
  chart("c-mempool", ["mean", "max"], [t, c.mempool, c.mempool_max || t.map(() => null)]);
  chart("c-txs", ["total", "per min"], [t, c.txs, c.tx_rate.map((r) => r === null ? null : r * 60)]);
  chart("c-stale", ["stale", "reorgs"], [t, c.stale, c.reorgs]);
  const victims = Object.keys(s.attacker_share);
  if (victims.length) chart("c-attack", victims.map((v) => "attacker share " + v), [t, ...victims.map((v) => s.attacker_share[v])]);
  else if (!charts["c-attack"]) $("c-attack").innerHTML = '<p class="note">no victims in this scenario</p>';
}

// -- the peer graph (cytoscape) -----------------------------------------------------------------
function nodeClass(n) {
  if (n.victim) return "victim";
  if (!n.honest || n.role === "attacker") return "attacker";
  return n.role === "miner" ? "miner" : "honest";
}
function showGraph(g) {
  const key = g.nodes.map((n) => n.id).join(",");
  $("graph-note").textContent = `${g.nodes.length} nodes, ${g.edges.length} connections` +
    (g.truncated ? " (truncated)" : "");
  const big = g.nodes.length > 800;
  if (!graph || key !== graphKey) {
    if (graph) graph.destroy();
    graphKey = key;
    const rank = {victim: 3, attacker: 2, miner: 1, honest: 0};
    graph = cytoscape({
      container: $("graph"), wheelSensitivity: 0.3, textureOnViewport: big, hideEdgesOnViewport: big, maxZoom: 4,
      elements: g.nodes.map((n) => ({data: {id: n.id, rank: rank[nodeClass(n)]}, classes: nodeClass(n)})),
      style: [
        {selector: "node", style: {width: big ? 4 : 9, height: big ? 4 : 9, "background-color": "#4a90d9",
                                   label: big ? "" : "", "border-width": 0}},
        {selector: "node.miner", style: {"background-color": "#2a9d4a"}},
        {selector: "node.attacker", style: {"background-color": "#d62728"}},
        {selector: "node.victim", style: {"background-color": "#ffb000", width: 18, height: 18, "border-width": 2,
                                          "border-color": "#000", label: "data(id)", "font-size": 10}},
        {selector: "node:selected", style: {"border-width": 3, "border-color": "#000", label: "data(id)", "font-size": 10}},
        {selector: "edge", style: {width: big ? 0.3 : 0.5, "line-color": "#b8c2cc", opacity: big ? 0.06 : 0.6}},
        {selector: "edge.bad", style: {"line-color": "#d62728", width: 1.2, opacity: 0.9}},
      ],
      layout: {name: "concentric", concentric: (n) => n.data("rank"), levelWidth: () => 1, minNodeSpacing: big ? 1 : 4,
               animate: false},
    });
    graph.on("tap", "node", (e) => selectNode(e.target.id()));
    if (graph.zoom() > 2.5) { graph.zoom(2.5); graph.center(); }  // a handful of nodes: no giant discs
  }
  const want = new Set(g.edges.map(([a, b]) => a + "~" + b));
  graph.batch(() => {
    graph.edges().forEach((e) => { if (!want.has(e.id())) e.remove(); });
    const add = [];
    for (const [a, b] of g.edges) {
      const id = a + "~" + b;
      if (graph.getElementById(id).length) continue;
      const bad = graph.getElementById(a).hasClass("attacker") || graph.getElementById(b).hasClass("attacker");
      add.push({group: "edges", data: {id, source: a, target: b}, classes: bad ? "bad" : ""});
    }
    graph.add(add);
  });
  $("graph").dataset.nodes = String(graph.nodes().length);
  $("graph").dataset.edges = String(graph.edges().length);
}

// -- the block tree (cytoscape, preset positions: x = height, y = fork lane) --------------------
function showBlocks(b) {
  $("blocks-note").textContent = `best height ${b.height}, ${b.total} blocks, ${b.stale} stale, ${b.reorgs.length} reorgs`;
  const key = b.blocks.map((x) => x.id + (x.main ? "m" : "")).join(",");
  $("blocktree").dataset.blocks = String(b.blocks.length);
  if (key === treeKey) return;
  treeKey = key;
  const lanes = {}, els = [], ids = new Set(b.blocks.map((x) => x.id));
  const minH = b.blocks.length ? b.blocks[0].height : 0;
  for (const x of b.blocks) {
    const lane = x.main ? 0 : (lanes[x.height] = (lanes[x.height] || 0) + 1);
    els.push({data: {id: x.id, label: String(x.height), miner: x.miner || ""}, classes: x.main ? "main" : "stale",
              position: {x: (x.height - minH) * 34, y: lane * 34}});
    if (x.parent && ids.has(x.parent)) els.push({data: {id: "p" + x.id, source: x.parent, target: x.id}});
  }
  if (tree) tree.destroy();
  tree = cytoscape({container: $("blocktree"), elements: els, layout: {name: "preset"}, wheelSensitivity: 0.3,
    style: [
      {selector: "node", style: {shape: "round-rectangle", width: 26, height: 18, label: "data(label)", "font-size": 9,
                                 "text-valign": "center", "background-color": "#1f77b4", color: "#fff"}},
      {selector: "node.stale", style: {"background-color": "#e67e22"}},
      {selector: "edge", style: {width: 1.5, "line-color": "#999", "curve-style": "straight", "target-arrow-shape": "none"}},
    ]});
  tree.on("tap", "node", (e) => { $("cmd-result").textContent = `block ${e.target.id()} by ${e.target.data("miner") || "?"}`; });
  tree.fit(undefined, 12);
  if (tree.zoom() > 1.2) { tree.zoom(1.2); tree.center(); }
  if (tree.zoom() < 0.6) {  // a long chain: readable blocks, the newest in view
    tree.zoom(0.6);
    tree.pan({x: $("blocktree").clientWidth - 40 - (b.height - minH) * 34 * 0.6, y: 110});
  }
  const last = b.reorgs.slice(-3).map((r) => `${r.node} at ${fmtTime(r.time)}: depth ${r.depth} from height ${r.fork_height}`);
  $("reorgs-note").textContent = last.length ? "latest reorgs: " + last.join("; ") : "no reorgs";
}

// -- agents table (filter + paging), wallets, transactions ----------------------------------------
async function showAgents() {
  const p = new URLSearchParams({offset: agentPage * PAGE, limit: PAGE});
  if ($("f-kind").value) p.set("kind", $("f-kind").value);
  if ($("f-role").value) p.set("role", $("f-role").value);
  if ($("f-q").value) p.set("q", $("f-q").value);
  const page = await getJSON("/api/agents?" + p);
  const victimIds = new Set(graph ? graph.nodes(".victim").map((n) => n.id()) : []);
  $("agents").querySelector("tbody").innerHTML = page.agents.map((a) => {
    const cls = victimIds.has(a.id) ? "victim" : (!a.honest || a.role === "attacker") ? "attacker" : "";
    const info = a.kind === "wallet" ? "balance " + xmr(a.info.balance) : (a.info.mempool !== undefined ? "pool " + a.info.mempool : "");
    return `<tr class="${cls}" data-id="${esc(a.id)}"><td>${esc(a.id)}</td><td>${esc(a.kind)}</td><td>${esc(a.role)}</td>` +
      `<td>${esc(a.group)}</td><td>${esc(a.state)}</td><td>${a.height}</td><td>${a.peers}</td><td>${a.blocks_found}</td>` +
      `<td>${a.reorgs}</td><td>${esc(info)}</td></tr>`;
  }).join("");
  const pages = Math.max(1, Math.ceil(page.count / PAGE));
  agentPage = Math.min(agentPage, pages - 1);
  $("p-info").textContent = `page ${agentPage + 1} of ${pages}`;
  $("agents-note").textContent = `${page.count} matching`;
}
$("agents").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-id]"); if (tr) selectNode(tr.dataset.id); });
["f-kind", "f-role", "f-q"].forEach((id) => $(id).addEventListener("input", () => { agentPage = 0; showAgents(); }));
$("p-prev").onclick = () => { agentPage = Math.max(0, agentPage - 1); showAgents(); };
$("p-next").onclick = () => { agentPage += 1; showAgents(); };
$("t-prev").onclick = () => { txPage = Math.max(0, txPage - 1); showTxs(); };
$("t-next").onclick = () => { txPage += 1; showTxs(); };
$("f-txstatus").addEventListener("input", () => { txPage = 0; showTxs(); });

async function fillRoles() {
  const all = await getJSON("/api/agents?kind=node");
  const roles = [...new Set(all.agents.map((a) => a.role))].sort();
  const sel = $("f-role"), cur = sel.value;
  if (sel.options.length - 1 !== roles.length) {
    sel.innerHTML = '<option value="">all roles</option>' + roles.map((r) => `<option>${esc(r)}</option>`).join("");
    sel.value = cur;
  }
}

async function showWallets() {
  const page = await getJSON("/api/agents?kind=wallet&limit=200");
  $("wallets-note").textContent = `${page.count} wallets`;
  $("wallets").querySelector("tbody").innerHTML = page.agents.map((w) =>
    `<tr data-id="${esc(w.id)}"><td>${esc(w.id.replace(/^wallet:/, ""))}</td><td>${esc(w.group)}</td><td>${esc(w.role)}</td>` +
    `<td>${xmr(w.info.balance)}</td><td>${w.info.sent_txs !== undefined ? w.info.sent_txs : (w.info.txs !== undefined ? w.info.txs : "–")}</td></tr>`).join("");
}

async function showTxs() {
  const p = new URLSearchParams({offset: txPage * 25, limit: 25});
  if ($("f-txstatus").value) p.set("status", $("f-txstatus").value);
  const page = await getJSON("/api/transactions?" + p);
  const by = Object.entries(page.by_status).map(([k, v]) => `${v} ${k}`).join(", ");
  $("txs-note").textContent = `${page.total} txs${by ? " (" + by + ")" : ""}`;
  const pages = Math.max(1, Math.ceil(page.total / 25));
  $("t-info").textContent = `page ${Math.min(txPage + 1, pages)} of ${pages}`;
  $("txs").querySelector("tbody").innerHTML = page.transactions.map((t) =>
    `<tr><td title="${esc(t.id)}">${esc(String(t.id).slice(0, 10))}</td><td>${esc(t.sender || "–")}</td><td>${esc(t.origin)}</td>` +
    `<td>${fmtTime(t.created)}</td><td class="phase-${esc(t.phase)}">${esc(t.phase || "–")}</td><td>${esc(t.status)}</td>` +
    `<td title="nodes that had it in their pool">${t.reached === undefined ? "–" : t.reached}</td><td>${xmr(t.fee)}</td></tr>`).join("");
}

// -- node detail ----------------------------------------------------------------------------------
async function selectNode(id) {
  selected = id;
  if (graph) { graph.$(":selected").unselect(); graph.getElementById(id).select(); }
  await showDetail();
}
async function showDetail() {
  if (!selected) return;
  let a;
  try { a = await getJSON("/api/agents/" + encodeURIComponent(selected)); } catch (e) { return; }
  $("detail-id").textContent = a.id;
  const rows = [["kind / role", `${a.kind} / ${a.role}`], ["group", a.group], ["honest", a.honest], ["state", a.state],
    ["height", a.height], ["tip", a.tip || "–"], ["peers", `${a.peers}: ${a.peer_list.slice(0, 30).join(", ")}${a.peer_list.length > 30 ? " …" : ""}`],
    ["blocks found", a.blocks_found], ["reorgs", a.reorgs], ["commands", a.commands.join(", ") || "none"]];
  for (const [k, v] of Object.entries(a.info || {})) rows.push([k, typeof v === "object" ? JSON.stringify(v) : v]);
  $("detail").innerHTML = "<dl>" + rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("") + "</dl>";
  $("detail").dataset.agent = a.id;
  if (a.heights.length) chart("c-node", ["height " + a.id], [a.heights.map((p) => p[0]), a.heights.map((p) => p[1])]);
}

// -- events ----------------------------------------------------------------------------------------
async function pollEvents() {
  const data = await getJSON(`/api/events?since=${cursor}&limit=40&latest=true&kind=${SHOWN_KINDS}`);
  cursor = data.next;
  for (const e of data.events) recent.push(e);
  while (recent.length > 30) recent.shift();
  $("events-table").querySelector("tbody").innerHTML = recent.slice().reverse().map((e) =>
    `<tr><td>${e.seq}</td><td>${e.time === null ? "" : e.time.toFixed(1)}</td><td>${esc(e.kind)}</td>` +
    `<td>${esc(e.agent || "")}</td><td class="data">${esc(JSON.stringify(e.data || {}).slice(0, 300))}</td></tr>`).join("");
}

// what a person reads in the log (samples, stats and wallet balances have their own views)
const SHOWN_KINDS = "run.start,run.built,run.end,run.error,run.paused,run.resumed,agent.,block.,chain.,peer.,tx.,command,check";
let slow = 0, busy = false;
async function tick() {
  if (busy) return;
  busy = true;
  try {
    const status = await getJSON("/api/status");
    showStatus(status);
    showSeries(await getJSON("/api/series"));
    if (slow % 2 === 0) {
      // thousands of nodes: the graph (large) every 10 s, the rest every 2 s
      if (!graph || graph.nodes().length <= 800 || slow % 10 === 0) showGraph(await getJSON("/api/graph"));
      showBlocks(await getJSON("/api/blocks?last=40"));
      await showAgents();
      await showWallets();
      await showTxs();
      await showDetail();
    }
    if (slow % 10 === 0) await fillRoles();
    slow += 1;
    await pollEvents();
    document.body.dataset.ready = "1";
  } catch (err) {
    $("state").textContent = "offline";
    $("state").className = "badge offline";
    document.body.dataset.error = String(err);
  } finally {
    busy = false;
  }
}

$("docs-link").href = "/api/docs?token=" + encodeURIComponent(TOKEN);
tick();
setInterval(tick, 1000);
