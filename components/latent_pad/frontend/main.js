"use strict";
// Streamlit components v1 protocol, written by hand (no npm, no build step).
const Streamlit = {
  send(type, data) { window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*"); },
  ready() { this.send("streamlit:componentReady", { apiVersion: 1 }); },
  setHeight(h) { this.send("streamlit:setFrameHeight", { height: h }); },
  setValue(v) { this.send("streamlit:setComponentValue", { value: v, dataType: "json" }); },
};

const IMAGE_SIZE = 28;
const RESEND_AFTER_MS = 1500;  // a reply lost (e.g. a rerun interrupted) must not freeze the pad
const gd = document.getElementById("plot");
const marker = document.getElementById("marker");
const ring = document.getElementById("ring");  // where the designer's own garment lies (not draggable)
const plotbox = document.getElementById("plotbox");
const big = document.getElementById("big");
const dots = document.getElementById("dots");
const tip = document.getElementById("tip");
const small = Object.assign(document.createElement("canvas"), { width: IMAGE_SIZE, height: IMAGE_SIZE });

const state = {
  dataKey: null, xy: null, labels: null, classNames: [],
  z: [0, 0], pointVersion: null, dragging: false,
  seq: 0, inflight: null, pending: null, frameQueued: false,
  view: null, picked: null, lastImage: null, height: null,
  decoder: null, decoderName: null, ring: null,
};
// Read by the browser test and the benchmark: paint count, pointer-move-to-paint latencies (ms), server
// round trips (ms, pointer move to the server's reply: when the z inputs mirror the point), who decodes.
window.latentPad = {
  painted: 0, paintedSeq: -1, latencies: [], roundTrips: [], sent: 0, replied: 0, decodes: "server",
  get busy() { return Boolean(state.pending || state.inflight); },
  get z() { return state.z.slice(); },
  get ring() { return state.ring && state.ring.slice(); },
  decode(z) { return Array.from(state.decoder.decode(z)); },
};

function bytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function round3(v) { return Math.round(v * 1000) / 1000; }

function axes() {
  const fl = gd._fullLayout;
  return fl && fl.xaxis && fl.xaxis.l2p ? { xa: fl.xaxis, ya: fl.yaxis, size: fl._size } : null;
}

// Put an element at a latent point, hidden when the point lies outside the plot's view.
function place(element, z) {
  const a = axes();
  if (!a) return;
  const px = a.size.l + a.xa.l2p(z[0]);
  const py = a.size.t + a.ya.l2p(z[1]);
  const inside = px >= a.size.l - 1 && px <= a.size.l + a.size.w + 1 &&
                 py >= a.size.t - 1 && py <= a.size.t + a.size.h + 1;
  element.style.display = inside ? "block" : "none";
  element.style.left = px + "px";
  element.style.top = py + "px";
}

function placeMarker() {
  place(marker, state.z);
  if (state.ring) place(ring, state.ring);
  else ring.style.display = "none";
  document.getElementById("ring-hint").hidden = !state.ring;
}

function currentView() {
  const a = axes();
  return a ? [a.xa.range[0], a.xa.range[1], a.ya.range[0], a.ya.range[1]].map(round3) : null;
}

function nearestItem(z) {
  let best = -1, bestD = Infinity;
  const xy = state.xy;
  for (let i = 0; i < state.labels.length; i++) {
    const dx = xy[2 * i] - z[0], dy = xy[2 * i + 1] - z[1], d = dx * dx + dy * dy;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

// Plotly's default colours, named so the canvas dots and the legend agree.
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                "#17becf"];
const DOT_RADIUS = 2, DOT_ALPHA = 0.55, HIT_PX = 6;
const OFF_PLOT = 1e9;  // each legend trace holds one point out here: Plotly drops traces without data from the legend

// The 10,000 dots are drawn on a canvas over the plot area, not as 10,000 SVG elements: Plotly took 0.4–1.6 s
// to build those on the busy 2-core machine, most of the pad's first visit. Plotly keeps the axes, zoom, pan
// and legend; the dots follow its ranges, and hover and click find the nearest dot here.
function plotRanges() {
  const a = axes();
  return a ? { x: a.xa.range.slice(), y: a.ya.range.slice(), size: a.size } : null;
}

function toPixels(r, x, y) {
  return [(x - r.x[0]) / (r.x[1] - r.x[0]) * r.size.w, (r.y[1] - y) / (r.y[1] - r.y[0]) * r.size.h];
}

function shownClasses() {
  return state.classNames.map((_, c) => !gd._fullData || !gd._fullData[c] || gd._fullData[c].visible === true);
}

function drawDots(r) {
  r = r || plotRanges();
  if (!r || !state.xy) return;
  const ratio = window.devicePixelRatio || 1;
  Object.assign(dots.style, { left: r.size.l + "px", top: r.size.t + "px", width: r.size.w + "px",
                              height: r.size.h + "px" });
  dots.width = Math.round(r.size.w * ratio);
  dots.height = Math.round(r.size.h * ratio);
  const g = dots.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, r.size.w, r.size.h);
  g.globalAlpha = DOT_ALPHA;
  const shown = shownClasses();
  for (let c = 0; c < state.classNames.length; c++) {
    if (!shown[c]) continue;
    g.fillStyle = COLORS[c % COLORS.length];
    g.beginPath();
    for (let i = 0; i < state.labels.length; i++) {
      if (state.labels[i] !== c) continue;
      const [px, py] = toPixels(r, state.xy[2 * i], state.xy[2 * i + 1]);
      if (px < -DOT_RADIUS || py < -DOT_RADIUS || px > r.size.w + DOT_RADIUS || py > r.size.h + DOT_RADIUS) continue;
      g.moveTo(px + DOT_RADIUS, py);
      g.arc(px, py, DOT_RADIUS, 0, 2 * Math.PI);
    }
    g.fill();
  }
}

// The shown dot nearest to a pointer event within HIT_PX pixels of it, or -1.
function dotAt(ev) {
  const r = plotRanges();
  if (!r || !state.xy) return -1;
  const box = plotbox.getBoundingClientRect();
  const mx = ev.clientX - box.left - r.size.l, my = ev.clientY - box.top - r.size.t;
  if (mx < 0 || my < 0 || mx > r.size.w || my > r.size.h) return -1;
  const shown = shownClasses();
  let best = -1, bestD = HIT_PX * HIT_PX;
  for (let i = 0; i < state.labels.length; i++) {
    if (!shown[state.labels[i]]) continue;
    const [px, py] = toPixels(r, state.xy[2 * i], state.xy[2 * i + 1]);
    const d = (px - mx) * (px - mx) + (py - my) * (py - my);
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

function buildPlot(args) {
  state.xy = new Float32Array(bytes(args.points).buffer);
  state.labels = bytes(args.labels);
  state.classNames = args.class_names;
  const traces = args.class_names.map((name, c) => ({
    type: "scatter", mode: "markers", name: name, x: [OFF_PLOT], y: [OFF_PLOT], hoverinfo: "skip",
    marker: { size: 4, opacity: DOT_ALPHA, color: COLORS[c % COLORS.length] },
  }));
  // The ranges Plotly's autorange would pick (5 % margins); double-click returns to them.
  const range = (k) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = k; i < state.xy.length; i += 2) { lo = Math.min(lo, state.xy[i]); hi = Math.max(hi, state.xy[i]); }
    const pad = 0.05 * (hi - lo || 1);
    return [lo - pad, hi + pad];
  };
  const layout = {
    height: args.height - 10, margin: { l: 45, r: 10, t: 50, b: 40 }, hovermode: false,
    xaxis: { title: { text: "z₁" }, zeroline: false, range: range(0) },
    yaxis: { title: { text: "z₂" }, zeroline: false, range: range(1) },
    legend: { itemsizing: "constant", orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", uirevision: "keep",
    font: { color: getComputedStyle(document.body).color },
  };
  const config = { displaylogo: false, scrollZoom: true, responsive: true, doubleClick: "reset",
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage", "autoScale2d"] };
  return Plotly.newPlot(gd, traces, layout, config).then(() => {
    gd.on("plotly_afterplot", () => { drawDots(); placeMarker(); });
    gd.on("plotly_relayouting", (ev) => {  // while panning, the dots move with the axes
      if (gd._fullLayout.dragmode !== "pan") return;
      const r = plotRanges(), x = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
      const y = [ev["yaxis.range[0]"], ev["yaxis.range[1]"]];
      if (r && x.every(Number.isFinite)) r.x = x;
      if (r && y.every(Number.isFinite)) r.y = y;
      drawDots(r);
    });
    gd.on("plotly_relayout", () => {
      drawDots();
      placeMarker();
      state.view = currentView();
      queueSend(performance.now());
    });
    let down = null;
    plotbox.addEventListener("pointerdown", (ev) => { down = [ev.clientX, ev.clientY]; });
    plotbox.addEventListener("click", (ev) => {  // a click (not a drag) on a dot jumps to that item
      const moved = !down || Math.abs(ev.clientX - down[0]) + Math.abs(ev.clientY - down[1]) > 3;
      const i = moved || state.dragging || ev.target === marker ? -1 : dotAt(ev);
      if (i < 0) return;
      state.z = [round3(state.xy[2 * i]), round3(state.xy[2 * i + 1])];
      state.picked = i;
      placeMarker();
      showCaption();
      paintLocal(performance.now());
      queueSend(performance.now());
    });
    plotbox.addEventListener("pointermove", (ev) => {
      const i = ev.buttons || state.dragging ? -1 : dotAt(ev);
      tip.style.display = i < 0 ? "none" : "block";
      if (i < 0) return;
      const box = plotbox.getBoundingClientRect();
      tip.textContent = state.classNames[state.labels[i]] + "\ntest item " + i;
      tip.style.left = (ev.clientX - box.left + 12) + "px";
      tip.style.top = (ev.clientY - box.top + 12) + "px";
    });
    plotbox.addEventListener("pointerleave", () => { tip.style.display = "none"; });
    state.view = currentView();
    drawDots();
    placeMarker();
  });
}

function showCaption() {
  let text = "z = (" + state.z[0].toFixed(2) + ", " + state.z[1].toFixed(2) + ")";
  if (state.labels && state.labels.length) {
    const i = nearestItem(state.z);
    text += "\nnearest test item: " + state.classNames[state.labels[i]] + " #" + i;
  }
  document.getElementById("caption").textContent = text;
}

// Probabilities -> grey levels exactly as core.render.to_uint8 rounds them.
function toUint8(probabilities) {
  const out = new Uint8Array(probabilities.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(Math.min(Math.max(probabilities[i], 0), 1) * 255 + 0.5);
  return out;
}

// Decode the point in the browser and paint it now; the latency counts from the input event to the next frame.
function paintLocal(eventTime) {
  if (!state.decoder) return false;
  paint(toUint8(state.decoder.decode(state.z)));
  window.latentPad.painted += 1;
  if (eventTime !== undefined) {
    requestAnimationFrame(() => window.latentPad.latencies.push(performance.now() - eventTime));
  }
  return true;
}

function loadDecoder(name) {
  state.decoderName = name;
  if (!name || typeof BrowserDecoder === "undefined") return;
  BrowserDecoder.load(name).then((decoder) => {
    if (state.decoderName !== name) return;
    state.decoder = decoder;
    window.latentPad.decodes = "browser";
    paintLocal();
  }).catch((e) => {  // the server's images keep the pad working
    console.warn("latent pad: decoding on the server, the browser decoder did not load:", e);
  });
}

function paint(px) {  // px: 784 grey levels 0..255, row-major
  const ctx = small.getContext("2d");
  const img = ctx.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  for (let i = 0; i < px.length; i++) {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = px[i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const bctx = big.getContext("2d");
  bctx.imageSmoothingEnabled = false;  // crisp enlarged pixels
  bctx.drawImage(small, 0, 0, big.width, big.height);
}

// Send the latest pointer position: at most once per animation frame and one request at a time,
// so the server never queues stale positions while the user keeps moving.
function queueSend(moveTime) {
  state.pending = { z: state.z.slice(), t: moveTime };
  if (!state.frameQueued) { state.frameQueued = true; requestAnimationFrame(flush); }
}

function flush() {
  state.frameQueued = false;
  if (!state.pending) return;
  const waited = state.inflight ? performance.now() - state.inflight.sent : Infinity;
  if (waited < RESEND_AFTER_MS) {  // the reply flushes; the timer covers a reply that never comes
    setTimeout(() => { if (!state.frameQueued) { state.frameQueued = true; requestAnimationFrame(flush); } },
               RESEND_AFTER_MS - waited + 1);
    return;
  }
  const p = state.pending;
  state.pending = null;
  state.seq += 1;
  state.inflight = { seq: state.seq, sent: performance.now(), t: p.t };
  window.latentPad.sent += 1;
  Streamlit.setValue({ x: round3(p.z[0]), y: round3(p.z[1]), seq: state.seq, view: state.view, picked: state.picked,
                      has_data: state.dataKey, decodes: window.latentPad.decodes });
}

function pointerToLatent(ev) {
  const a = axes();
  const r = plotbox.getBoundingClientRect();
  const px = Math.min(Math.max(ev.clientX - r.left, a.size.l), a.size.l + a.size.w);
  const py = Math.min(Math.max(ev.clientY - r.top, a.size.t), a.size.t + a.size.h);
  // Rounded to what the z inputs show, so browser and server decode the very same point.
  return [round3(a.xa.p2l(px - a.size.l)), round3(a.ya.p2l(py - a.size.t))];
}

marker.addEventListener("pointerdown", (ev) => {
  if (!axes()) return;
  ev.preventDefault();
  marker.setPointerCapture(ev.pointerId);
  state.dragging = true;
  marker.classList.add("dragging");
});
marker.addEventListener("pointermove", (ev) => {
  if (!state.dragging) return;
  state.z = pointerToLatent(ev);
  state.picked = null;
  placeMarker();
  showCaption();
  paintLocal(ev.timeStamp);
  queueSend(ev.timeStamp);
});
function endDrag() {
  if (!state.dragging) return;
  state.dragging = false;
  marker.classList.remove("dragging");
}
marker.addEventListener("pointerup", endDrag);
marker.addEventListener("lostpointercapture", endDrag);
marker.addEventListener("keydown", (ev) => {
  const a = axes();
  const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  if (!a || !steps[ev.key]) return;
  ev.preventDefault();
  const step = (ev.shiftKey ? 0.1 : 0.02) * Math.abs(a.xa.range[1] - a.xa.range[0]);
  state.z = [round3(state.z[0] + steps[ev.key][0] * step), round3(state.z[1] + steps[ev.key][1] * step)];
  state.picked = null;
  placeMarker();
  showCaption();
  paintLocal(ev.timeStamp);
  queueSend(ev.timeStamp);
});

function onRender(args) {
  if (args.decoder !== state.decoderName) loadDecoder(args.decoder);  // first: fetched while the plot is built
  state.ring = Array.isArray(args.ring) ? args.ring.slice() : null;
  let ready = Promise.resolve();
  if (args.data_key !== state.dataKey) {
    if (args.points) {
      state.dataKey = args.data_key;
      ready = buildPlot(args);
    } else {  // the page sends the embedding only to a pad that lacks it: ask for it
      queueSend(performance.now());
    }
  }
  if (state.height !== args.height) { state.height = args.height; Streamlit.setHeight(args.height); }
  if (args.point_version !== state.pointVersion) {
    state.pointVersion = args.point_version;
    if (!state.dragging) { state.z = args.point.slice(); ready.then(placeMarker); paintLocal(); }
  }
  if (state.seq < args.image_seq) state.seq = args.image_seq;  // a remounted pad continues the numbering
  if (args.image && args.image !== state.lastImage) {
    state.lastImage = args.image;
    if (!state.decoder) {  // a browser decoder has painted this point already
      paint(bytes(args.image));
      window.latentPad.painted += 1;
      window.latentPad.paintedSeq = args.image_seq;
    }
  }
  ready.then(() => { showCaption(); placeMarker(); });
  const inflight = state.inflight;
  if (inflight && args.image_seq >= inflight.seq) {
    state.inflight = null;
    window.latentPad.replied += 1;
    // Painted (or, with a browser decoder, the z inputs updated) on the next frame: when the user sees it.
    requestAnimationFrame(() => {
      const ms = performance.now() - inflight.t;
      window.latentPad.roundTrips.push(ms);
      if (!state.decoder && args.image) window.latentPad.latencies.push(ms);
    });
    if (state.pending && !state.frameQueued) { state.frameQueued = true; requestAnimationFrame(flush); }
  }
}

window.addEventListener("message", (ev) => {
  if (!ev.data || ev.data.type !== "streamlit:render") return;
  try {
    const theme = ev.data.theme;
    if (theme && theme.textColor) {  // follow Streamlit's light / dark theme
      document.body.style.color = theme.textColor;
      if (theme.font) document.body.style.fontFamily = theme.font;
    }
    onRender(ev.data.args);
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "The latent pad failed: " + e;
  }
});
window.addEventListener("resize", () => { drawDots(); placeMarker(); });
if (typeof Plotly === "undefined") {
  document.getElementById("error").textContent = "vendor/plotly-basic.min.js did not load.";
}
Streamlit.ready();
