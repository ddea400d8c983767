// mlpnet playground page: plain JavaScript and canvas, nothing fetched from the internet.
// The server trains; this page sends the form, receives frames over server-sent events and draws
// only the latest frame on each animation frame (a busy tab skips frames, it never queues them).
"use strict";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const FIELDS = ["dataset", "samples", "seed", "layers", "activation", "loss-function", "optimizer", "lr", "batch-size"];
const LAYER_COLORS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#718096"];
const state = {
  sid: null, setup: null, frame: null, pending: null, run: -1, losses: [], norms: [],
  lastEpoch: -1, frames: 0, fpsStart: performance.now(), fpsCount: 0, fps: 0,
  serverMessage: "", selected: null, busy: 0, draws: 0, surface: null, surfaceStart: [1, 2], surfaceAnim: 0,
};
window.playground = state; // for the browser tests
state.errors = [];
window.addEventListener("error", (e) => state.errors.push(String((e.error && e.error.stack) || e.message)));

function showMessage(text, kind) {
  const m = $("message");
  m.textContent = text || "";
  m.className = "message" + (text ? (kind === "info" ? " info" : " error") : "");
}

async function api(path, body) {
  state.busy += 1;
  let r, j = {};
  try {
    r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                            body: JSON.stringify(body || {}) });
    try { j = await r.json(); } catch (e) { j = { error: `HTTP ${r.status}` }; }
  } catch (e) {
    r = { ok: false, status: 0 }; j = { error: "the playground server does not answer" };
  } finally {
    state.busy -= 1;
  }
  if (!r.ok) {
    showMessage(j.error || `HTTP ${r.status}`);
    throw new Error(j.error);
  }
  return j;
}

// ---------------------------------------------------------------- the session and its stream
async function connect() {
  const r = await fetch("/api/session", { method: "POST" });
  const j = await r.json();
  if (!r.ok) { showMessage(j.error); $("stats").textContent = "no session"; return; }
  state.sid = j.sid;
  applySetup(j.setup);
  $("export-model").href = `/api/export/${state.sid}/model`;
  $("export-script").href = `/api/export/${state.sid}/script`;
  const es = new EventSource(`/api/stream/${state.sid}`);
  es.addEventListener("setup", (e) => applySetup(JSON.parse(e.data)));
  es.addEventListener("frame", (e) => onFrame(JSON.parse(e.data)));
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) showMessage("lost the playground server: reload the page");
  };
  window.addEventListener("pagehide", () => navigator.sendBeacon(`/api/close/${state.sid}`));
}

function formValues() {
  const v = (id) => $(id).value;
  return { dataset: v("dataset"), samples: v("samples"), seed: v("seed"), layers: v("layers"),
           activation: v("activation"), loss: v("loss-function"), optimizer: v("optimizer"),
           lr: v("lr"), batch_size: v("batch-size") };
}

async function sendConfig() {
  const curve = !["xor", "two_class", "four_points", "circles", "spiral"].includes($("dataset").value);
  if (curve && document.activeElement !== $("loss-function")) $("loss-function").value = "squared_error";
  try {
    await api(`/api/config/${state.sid}`, formValues());
    showMessage("");
  } catch (e) {
    $("message").textContent += " (the run keeps its previous settings)";
  }
}

function applySetup(setup) {
  state.setup = setup;
  const f = setup.form;
  const set = { dataset: f.dataset, samples: f.samples, seed: f.seed, layers: f.layers,
                activation: f.activation, "loss-function": f.loss, optimizer: f.optimizer, lr: f.lr,
                "batch-size": f.batch_size == null ? "" : f.batch_size };
  for (const [id, value] of Object.entries(set)) $(id).value = value;
  for (const o of $("loss-function").options) o.disabled = setup.kind === "curve" && o.value !== "squared_error";
  state.selected = null;
  $("backprop").innerHTML = '<p class="hint">Click a data point in the output plot.</p>';
  buildNeurons(setup);
  $("surface").hidden = f.dataset !== "four_points";
  if (f.dataset === "four_points") loadSurface();
}

function onFrame(f) {
  if (f.run !== state.run) { state.run = f.run; state.losses = []; state.norms = []; state.lastEpoch = -1; }
  if (f.epoch !== state.lastEpoch && f.loss != null) {
    state.losses.push([f.epoch, f.loss]);
    if (f.norms.length) state.norms.push([f.epoch, f.norms]);
    for (const series of [state.losses, state.norms]) {
      if (series.length > 1500) for (let i = 1; i < series.length; i++) series.splice(i, 1);
    }
    state.lastEpoch = f.epoch;
  }
  $("epoch").textContent = String(f.epoch);
  $("loss").textContent = f.loss == null ? "—" : f.loss.toPrecision(5);
  if (f.message !== state.serverMessage) {
    state.serverMessage = f.message;
    showMessage(f.message, f.message.startsWith("stopped") ? "info" : "error");
  }
  $("start").disabled = f.running;
  $("pause").disabled = !f.running;
  state.frames += 1;
  state.fpsCount += 1;
  const now = performance.now();
  if (now - state.fpsStart >= 1000) {
    state.fps = (1000 * state.fpsCount) / (now - state.fpsStart);
    state.fpsStart = now; state.fpsCount = 0;
  }
  $("stats").textContent = f.running
    ? `${state.fps.toFixed(1)} frames/s · server ${f.cost_ms.toFixed(2)} ms/frame`
    : `paused · server ${f.cost_ms.toFixed(2)} ms/frame`;
  state.pending = f;
  if (!state.raf) state.raf = requestAnimationFrame(draw);
}

function draw() {
  state.raf = 0;
  const f = state.pending;
  if (!f || !state.setup) return;
  state.frame = f;
  state.draws += 1;
  if (state.setup.kind === "plane") drawPlane(f); else drawCurve(f);
  drawNeurons(f);
  drawSeries($("loss-curve"), [state.losses.map(([e, l]) => [e, l])], ["#1a202c"]);
  const layers = state.norms.length ? state.norms[state.norms.length - 1][1].length : 0;
  const series = [];
  for (let l = 0; l < layers; l++) series.push(state.norms.map(([e, n]) => [e, n[l]]));
  drawSeries($("grad-norms"), series, LAYER_COLORS);
  $("grad-norms-legend").innerHTML = series.map((_, l) =>
    `<span><i style="background:${LAYER_COLORS[l % LAYER_COLORS.length]}"></i>layer ${l + 1}</span>`).join("");
  if (f.backprop) drawBackprop(f.backprop);
}

// ---------------------------------------------------------------- colours and decoding
function bytes(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
function mix(a, b, t) { return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)); }
const WHITE = [255, 255, 255], BLUE = [43, 108, 176], ORANGE = [221, 107, 32];
function diverging(t) { // t in [-1, 1]: blue … white … orange
  return t < 0 ? mix(WHITE, BLUE, Math.min(1, -t) * 0.85) : mix(WHITE, ORANGE, Math.min(1, t) * 0.85);
}
const DIVERGING = new Uint8ClampedArray(4 * 256); // byte u ↦ colour of t = u / 127.5 − 1
for (let u = 0; u < 256; u++) DIVERGING.set([...diverging(u / 127.5 - 1), 255], 4 * u);
const offscreen = document.createElement("canvas");
function paint(canvas, n, m, colorAt) { // colorAt(i) → [r, g, b], or a Uint8Array of LUT indices
  offscreen.width = n; offscreen.height = m;
  const octx = offscreen.getContext("2d"), img = octx.createImageData(n, m), px = img.data;
  if (colorAt instanceof Uint8Array) {
    for (let i = 0; i < n * m; i++) {
      const k = 4 * colorAt[i];
      px[4 * i] = DIVERGING[k]; px[4 * i + 1] = DIVERGING[k + 1]; px[4 * i + 2] = DIVERGING[k + 2]; px[4 * i + 3] = 255;
    }
  } else {
    for (let i = 0; i < n * m; i++) {
      const c = colorAt(i);
      px[4 * i] = c[0]; px[4 * i + 1] = c[1]; px[4 * i + 2] = c[2]; px[4 * i + 3] = 255;
    }
  }
  octx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  return ctx;
}

// ---------------------------------------------------------------- the output view
function toPixel(setup, canvas, x, y) {
  const [[x0, x1], [y0, y1]] = setup.extent;
  return [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
}

function drawPlane(f) {
  const canvas = $("boundary"), setup = state.setup, grid = bytes(f.grid);
  const ctx = paint(canvas, f.n, f.n, grid);
  setup.X.forEach(([x, y], i) => {
    const [px, py] = toPixel(setup, canvas, x, y);
    ctx.beginPath();
    ctx.arc(px, py, i === state.selected ? 8 : 5, 0, 2 * Math.PI);
    ctx.fillStyle = setup.Y[i] > 0.5 ? "#c05621" : "#2c5282";
    ctx.fill();
    ctx.lineWidth = i === state.selected ? 3 : 1;
    ctx.strokeStyle = i === state.selected ? "#000" : "#1a202c";
    ctx.stroke();
  });
  $("contributions").textContent = "";
}

function curveRange(setup) {
  const ys = setup.Y, lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.35 * Math.max(hi - lo, 0.5);
  return [lo - pad, hi + pad];
}

function drawCurve(f) {
  const canvas = $("boundary"), ctx = canvas.getContext("2d"), setup = state.setup;
  const [x0, x1] = setup.extent[0], [y0, y1] = curveRange(setup);
  const px = (x) => ((x - x0) / (x1 - x0)) * canvas.width, py = (y) => ((y1 - y) / (y1 - y0)) * canvas.height;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#e2e8f0"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(0, py(0)); ctx.lineTo(canvas.width, py(0));
  ctx.moveTo(px(0), 0); ctx.lineTo(px(0), canvas.height); ctx.stroke();
  const line = (ys, color, width, dash) => {
    ctx.beginPath(); ctx.setLineDash(dash || []); ctx.strokeStyle = color; ctx.lineWidth = width;
    ys.forEach((y, i) => { const X = px(f.x[i]), Y = py(y); if (i) ctx.lineTo(X, Y); else ctx.moveTo(X, Y); });
    ctx.stroke(); ctx.setLineDash([]);
  };
  (f.contributions || []).forEach((c, j) => line(c, LAYER_COLORS[(j + 1) % LAYER_COLORS.length], 1.5, [6, 4]));
  setup.X.forEach(([x], i) => {
    ctx.beginPath(); ctx.arc(px(x), py(setup.Y[i]), i === state.selected ? 7 : 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = i === state.selected ? "#000" : "#4a5568"; ctx.fill();
  });
  line(f.f, "#c05621", 3);
  $("contributions").textContent = f.contributions
    ? `dashed: each hidden unit's contribution v_j ψ(w_j x + b_j); the fit f(x) is their sum plus c = ${f.c} (the notes' Figure 5.3)`
    : "one hidden layer shows each unit's contribution v_j ψ(w_j x + b_j)";
}

$("boundary").addEventListener("click", (e) => {
  const setup = state.setup, canvas = $("boundary");
  if (!setup || !state.sid) return;
  const rect = canvas.getBoundingClientRect();
  const cx = ((e.clientX - rect.left) * canvas.width) / rect.width, cy = ((e.clientY - rect.top) * canvas.height) / rect.height;
  let best = -1, bestD = Infinity;
  setup.X.forEach((x, i) => {
    let p;
    if (setup.kind === "plane") p = toPixel(setup, canvas, x[0], x[1]);
    else {
      const [x0, x1] = setup.extent[0], [y0, y1] = curveRange(setup);
      p = [((x[0] - x0) / (x1 - x0)) * canvas.width, ((y1 - setup.Y[i]) / (y1 - y0)) * canvas.height];
    }
    const d = Math.hypot(p[0] - cx, p[1] - cy);
    if (d < bestD) { bestD = d; best = i; }
  });
  if (best >= 0) {
    state.selected = best;
    api(`/api/select/${state.sid}`, { sample: best }).catch(() => {});
  }
});

// ---------------------------------------------------------------- hidden units
function buildNeurons(setup) {
  const box = $("neurons");
  box.innerHTML = "";
  const hidden = setup.sizes.slice(1, -1);
  hidden.forEach((n, l) => {
    const col = document.createElement("div");
    col.className = "layer";
    col.innerHTML = `<div class="title">layer ${l + 1} · ${setup.activations[l]}</div>`;
    for (let j = 0; j < n; j++) {
      const c = document.createElement("canvas");
      c.width = setup.kind === "plane" ? 25 : 100; c.height = setup.kind === "plane" ? 25 : 60;
      c.dataset.testid = `neuron-${l + 1}-${j + 1}`;
      c.title = `layer ${l + 1}, unit ${j + 1}`;
      col.appendChild(c);
    }
    box.appendChild(col);
  });
}

function drawNeurons(f) {
  const canvases = $("neurons").querySelectorAll("canvas");
  if (state.setup.kind === "plane") {
    f.neurons.forEach((nu, k) => {
      const c = canvases[k];
      if (!c) return;
      // re-centre each unit's bytes on 0 (white) with its own scale max(|lo|, |hi|)
      const v = bytes(nu.b), m = Math.max(Math.abs(nu.lo), Math.abs(nu.hi)) || 1;
      const a = (nu.hi - nu.lo) / 255 / m, b = nu.lo / m;
      for (let i = 0; i < v.length; i++) v[i] = Math.round(127.5 * (1 + b + a * v[i]));
      paint(c, 25, 25, v);
    });
    return;
  }
  let k = 0;
  f.neurons.forEach((layer) => layer.forEach((ys) => {
    const c = canvases[k++];
    if (!c) return;
    const ctx = c.getContext("2d"), lo = Math.min(...ys, -1), hi = Math.max(...ys, 1);
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.strokeStyle = "#cbd5e0"; ctx.beginPath();
    ctx.moveTo(0, c.height * hi / (hi - lo)); ctx.lineTo(c.width, c.height * hi / (hi - lo)); ctx.stroke();
    ctx.strokeStyle = "#2b6cb0"; ctx.lineWidth = 2; ctx.beginPath();
    ys.forEach((y, i) => {
      const X = (i / (ys.length - 1)) * c.width, Y = ((hi - y) / (hi - lo)) * c.height;
      if (i) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
    });
    ctx.stroke();
  }));
}

// ---------------------------------------------------------------- charts
function drawSeries(canvas, series, colors) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 44, B = 18;
  ctx.clearRect(0, 0, W, H);
  const pts = series.flat().filter(([, y]) => y > 0 && isFinite(y));
  if (!pts.length) return;
  const xs = pts.map((p) => p[0]), ly = pts.map((p) => Math.log10(p[1]));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.floor(Math.min(...ly)), y1 = Math.ceil(Math.max(...ly));
  if (y1 === y0) y1 += 1;
  const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - 6), py = (v) => 4 + ((y1 - v) / (y1 - y0)) * (H - B - 8);
  ctx.font = "10px system-ui"; ctx.fillStyle = "#718096"; ctx.strokeStyle = "#edf2f7"; ctx.lineWidth = 1;
  const every = Math.max(1, Math.ceil((y1 - y0) / 6));
  for (let v = y0; v <= y1; v += every) {
    ctx.beginPath(); ctx.moveTo(L, py(v)); ctx.lineTo(W, py(v)); ctx.stroke();
    ctx.fillText(`1e${v}`, 4, py(v) + 3);
  }
  ctx.fillText(`epoch ${x0}`, L, H - 4);
  ctx.fillText(`${x1}`, W - 40, H - 4);
  series.forEach((s, k) => {
    ctx.beginPath(); ctx.strokeStyle = colors[k % colors.length]; ctx.lineWidth = 1.6;
    let started = false;
    for (const [x, y] of s) {
      if (!(y > 0 && isFinite(y))) continue;
      const X = px(x), Y = py(Math.log10(y));
      if (started) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); started = true; }
    }
    ctx.stroke();
  });
}

// ---------------------------------------------------------------- backpropagation of one sample
const fmt = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4));
const vec = (a) => `<span class="vec">[${a.map(fmt).join(", ")}]</span>`;
function mat(m) {
  const rows = m.slice(0, 8).map((r) => `<tr>${r.slice(0, 8).map((v) => {
    const t = Math.max(-1, Math.min(1, v * 4));
    return `<td style="background:rgb(${diverging(t).join(",")})">${fmt(v)}</td>`;
  }).join("")}${r.length > 8 ? "<td>…</td>" : ""}</tr>`).join("");
  return `<table class="mat">${rows}${m.length > 8 ? "<tr><td>⋮</td></tr>" : ""}</table>`;
}
function drawBackprop(bp) {
  const sub = (s, l) => `${s}<sub>${l}</sub>`;
  const rows = bp.layers.map((r) => `<tr><th>l = ${r.l}</th><td>${vec(r.Z)}</td><td>${vec(r.Q)}</td>` +
    `<td>${vec(r.delta)}</td><td>${mat(r.gW)}</td><td>${vec(r.gb)}</td></tr>`).join("");
  $("backprop").innerHTML =
    `<p>sample ${bp.sample}: x = ${vec(bp.x)}, y = ${vec(bp.y)}, ŷ = ${vec(bp.yhat)}, its loss ℓ = ${fmt(bp.loss)}</p>` +
    `<table><tr><th></th><th>${sub("Z", "l")}</th><th>${sub("Q", "l")} = ψ(${sub("Z", "l")})</th>` +
    `<th>${sub("δ", "l")} = ∂ℓ/∂${sub("Z", "l")}</th><th>∇${sub("W", "l")} = ${sub("δ", "l")}<sup>T</sup>${sub("Q", "l−1")}</th>` +
    `<th>∇${sub("b", "l")}</th></tr>${rows}</table>`;
}

// ---------------------------------------------------------------- the four-point loss surface
async function loadSurface() {
  const [w11, w12] = state.surfaceStart, lr = Number($("lr").value) || 1;
  const r = await fetch(`/api/surface?lr=${lr}&w11=${w11}&w12=${w12}&steps=100`);
  const j = await r.json();
  if (!r.ok) { showMessage(j.error); return; }
  state.surface = j;
  const t0 = performance.now();
  const animate = (now) => {
    const k = Math.max(0, Math.min(100, Math.floor((now - t0) / 20))); // rAF time may precede t0
    drawSurfaces(k);
    if (k < 100 && state.surface === j) requestAnimationFrame(animate);
  };
  requestAnimationFrame(animate);
}

function drawSurfaces(k) {
  const s = state.surface, lo = Math.min(...s.J.flat()), hi = Math.max(...s.J.flat());
  for (const name of ["GD", "Armijo", "SGD"]) {
    const canvas = $(`surface-${name}`), flat = s.J.flat();
    const ctx = paint(canvas, s.n, s.n, (i) => mix([20, 40, 90], [250, 245, 200], Math.sqrt((flat[i] - lo) / (hi - lo))));
    const px = (w) => ((w[0] - s.w11[0]) / (s.w11[1] - s.w11[0])) * canvas.width;
    const py = (w) => ((s.w12[1] - w[1]) / (s.w12[1] - s.w12[0])) * canvas.height;
    const path = s.paths[name], upto = Math.min(k, path.w.length - 1);
    ctx.strokeStyle = "#e53e3e"; ctx.lineWidth = 2; ctx.beginPath();
    path.w.slice(0, upto + 1).forEach((w, i) => (i ? ctx.lineTo(px(w), py(w)) : ctx.moveTo(px(w), py(w))));
    ctx.stroke();
    ctx.fillStyle = "#fff"; ctx.beginPath(); ctx.arc(px(path.w[upto]), py(path.w[upto]), 4, 0, 2 * Math.PI); ctx.fill();
    $(`surface-${name}-caption`).textContent = `${name}: step ${upto}, J = ${path.J[upto].toPrecision(3)}`;
  }
}

for (const name of ["GD", "Armijo", "SGD"]) {
  $(`surface-${name}`).addEventListener("click", (e) => {
    const s = state.surface, c = e.target, rect = c.getBoundingClientRect();
    if (!s) return;
    const u = (e.clientX - rect.left) / rect.width, v = (e.clientY - rect.top) / rect.height;
    state.surfaceStart = [s.w11[0] + u * (s.w11[1] - s.w11[0]), s.w12[1] - v * (s.w12[1] - s.w12[0])].map((w) => +w.toFixed(3));
    loadSurface();
  });
}

// ---------------------------------------------------------------- controls
for (const id of FIELDS) $(id).addEventListener("change", sendConfig);
for (const action of ["start", "pause", "step", "reset"]) {
  $(action).addEventListener("click", () => api(`/api/control/${state.sid}/${action}`).catch(() => {}));
}
connect();
