// The latent map drawn in the browser: points on a canvas, the decoder run under the pointer on
// every move (no server round trip), and one small message to Python per pin (click, tap, Enter).
// This library arrives with the "latentlab_blob" carrier (after decoder.js, before blob.js), once
// per browser session, together with the blobs (map + decoder weights); everything lives in
// window.__latentlab. The "latentlab_map" element itself carries only a stub (ui/latentmap.py)
// that calls LL.mount, so a pin re-sends a few hundred bytes, not this file.

const LL = (window.__latentlab = window.__latentlab || {
  blobs: new Map(),        // id -> parsed blob ({header, arrays})
  decoders: new Map(),     // decoder blob id -> llMakeDecoder(...)
  bus: new EventTarget(),  // "blob" when one arrives; "link" for linked pointers
  lat: [],                 // pointer-move -> decoded image drawn, ms (bench/pointer_latency.py)
});
LL.maps = LL.maps || new Map();  // widget key -> LatentMap (tests and benches find maps here)

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
// Paul Tol's colour-blind-safe scheme and one marker shape per class (presenter mode)
const SAFE = ["#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288",
              "#AA4499", "#44AA99", "#999933", "#882255", "#661100"];
const SHAPES = ["circle", "square", "diamond", "triangle", "cross", "x", "star", "hexagon",
                "triangle-down", "pentagon"];

function el(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;  // always plain text, never HTML
  if (parent) parent.appendChild(e);
  return e;
}

function niceStep(span, target) {
  const raw = span / Math.max(target, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function shapePath(ctx, shape, x, y, r) {
  switch (shape) {
    case "square": ctx.rect(x - r, y - r, 2 * r, 2 * r); break;
    case "diamond": ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3);
      ctx.lineTo(x - r * 1.3, y); ctx.closePath(); break;
    case "triangle": ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r); ctx.lineTo(x - r * 1.2, y + r);
      ctx.closePath(); break;
    case "triangle-down": ctx.moveTo(x, y + r * 1.3); ctx.lineTo(x + r * 1.2, y - r); ctx.lineTo(x - r * 1.2, y - r);
      ctx.closePath(); break;
    case "cross": { const t = r * 0.45; ctx.rect(x - r, y - t, 2 * r, 2 * t); ctx.rect(x - t, y - r, 2 * t, 2 * r); break; }
    case "x": { const t = r * 0.45; ctx.moveTo(x - r, y - r + t); ctx.lineTo(x - r + t, y - r); ctx.lineTo(x, y - t);
      ctx.lineTo(x + r - t, y - r); ctx.lineTo(x + r, y - r + t); ctx.lineTo(x + t, y); ctx.lineTo(x + r, y + r - t);
      ctx.lineTo(x + r - t, y + r); ctx.lineTo(x, y + t); ctx.lineTo(x - r + t, y + r); ctx.lineTo(x - r, y + r - t);
      ctx.lineTo(x - t, y); ctx.closePath(); break; }
    case "star": case "pentagon": case "hexagon": {
      const n = shape === "hexagon" ? 6 : 5, star = shape === "star", R = r * 1.25;
      for (let i = 0; i < (star ? 2 * n : n); i++) {
        const a = -Math.PI / 2 + i * Math.PI / (star ? n : n / 2), rr = star && i % 2 ? R * 0.45 : R;
        i ? ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)) : ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      }
      ctx.closePath(); break;
    }
    default: ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

class LatentMap {
  constructor(root, component) {
    this.root = root;
    this.component = component;
    this.hidden = new Set();
    this.pointer = null;      // {x, y} data coords under the pointer / keyboard cursor
    this.linked = null;       // z from a linked map
    this.drag = null;
    this.view = null;
    this.build();
    this.onBlob = () => this.tryInit();
    LL.bus.addEventListener("blob", this.onBlob);
    this.onLink = (e) => this.linkedMove(e.detail);
    LL.bus.addEventListener("link", this.onLink);
    // re-layout only when the width changes: captions that wrap differently change the
    // height, and a full redraw on every such move would cost frames
    new ResizeObserver(() => { if (this.root.clientWidth !== this.laidW) this.layout(); }).observe(this.root);
  }

  // ---- DOM -------------------------------------------------------------------------------
  build() {
    const r = this.root;
    r.classList.add("ll-root");
    this.top = el("div", "ll-top", r);
    this.legend = el("div", "ll-legend", this.top);
    const tools = el("div", "ll-tools", this.top);
    const btn = (label, title, fn) => {
      const b = el("button", "ll-btn", tools, label);
      b.title = title; b.setAttribute("aria-label", title); b.type = "button";
      b.addEventListener("click", fn);
    };
    btn("+", "Zoom in", () => this.zoom(1 / 1.5));
    btn("−", "Zoom out", () => this.zoom(1.5));
    btn("⟲", "Reset the view", () => this.resetView());
    this.body = el("div", "ll-body", r);
    this.plot = el("div", "ll-plot", this.body);
    this.base = el("canvas", "ll-base", this.plot);
    this.over = el("canvas", "ll-over", this.plot);
    this.over.tabIndex = 0;
    this.over.setAttribute("role", "application");
    this.over.setAttribute("aria-label",
      "Latent map. Move the pointer, or use the arrow keys, to decode the code under it; click, tap or press Enter to pin.");
    this.tip = el("div", "ll-tip", this.plot);
    this.side = el("div", "ll-side", this.body);
    this.sideTitle = el("div", "ll-side-title", this.side, "decoder(z) under the pointer");
    this.img = el("canvas", "ll-img", this.side);
    this.imgCap = el("div", "ll-cap", this.side, "Move the pointer over the map.");
    this.zText = el("div", "ll-z", this.side, "");
    this.status = el("div", "ll-status", r, "Loading the map…");
    this.sentRow = el("div", "ll-sent-row", r);
    this.sent = el("span", "ll-sent", this.sentRow, "");  // a class pin's outcome (data.post)
    this.sent.setAttribute("role", "status");
    this.detail = el("button", "ll-detail", this.sentRow, "Show this pin in detail");
    this.detail.type = "button";
    this.detail.style.display = "none";
    this.detail.addEventListener("click", () => {  // one script run, when the student asks
      if (this.lastSent) this.component.setTriggerValue("pin", {...this.lastSent, seq: ++this.seq});
    });
    this.bindEvents();
  }

  // ---- data ------------------------------------------------------------------------------
  update(data) {
    this.data = data || {};
    if (this.data.key) LL.maps.set(this.data.key, this);
    this.root.classList.toggle("ll-presenter", !!this.data.presenter);
    this.tryInit();
  }

  tryInit() {
    const d = this.data;
    if (!d) return;
    const m = LL.blobs.get(d.map), dec = LL.blobs.get(d.decoder);
    if (!m || !dec) {
      this.status.textContent = "Loading the map…";
      this.status.style.display = "";
      clearTimeout(this.needTimer);
      // the server thinks the blobs were sent (e.g. this tab was reloaded): ask again once
      this.needTimer = setTimeout(() => {
        const missing = [d.map, d.decoder].filter((id) => !LL.blobs.has(id));
        if (missing.length) this.component.setTriggerValue("need", missing);
      }, 2500);
      return;
    }
    clearTimeout(this.needTimer);
    this.status.style.display = "none";
    const viewKey = JSON.stringify(d.view || null);
    const fresh = this.mapBlob !== m || this.viewKey !== viewKey;
    this.viewKey = viewKey;
    this.mapBlob = m;
    this.meta = m.header;
    if (!LL.decoders.has(d.decoder)) LL.decoders.set(d.decoder, llMakeDecoder(dec));
    this.decoder = LL.decoders.get(d.decoder);
    if (fresh) {
      this.xy = m.arrays.xy;
      this.labels = m.arrays.labels;
      this.n = this.labels.length;
      this.resetView(false);
      this.buildLegend();
      const [c, h, w] = this.decoder.shape;
      this.img.width = w; this.img.height = h;
      this.imgData = this.img.getContext("2d").createImageData(w, h);
      this.pointer = null;
    }
    this.sideTitle.textContent = d.side_title || "decoder(z) under the pointer";
    this.layout();
    if (fresh) {  // data arrived (parse included) -> map drawn, for the bench
      LL.firstDraw = LL.firstDraw || [];
      LL.firstDraw.push({id: d.map, n: this.n, ms: performance.now() - Math.max(m.arrived || 0, dec.arrived || 0)});
    }
  }

  buildLegend() {
    this.legend.textContent = "";
    const pal = this.data.presenter ? SAFE : PALETTE;
    this.meta.classes.forEach((name, k) => {
      if (!this.meta.present[k]) return;
      const chip = el("button", "ll-chip", this.legend);
      chip.type = "button";
      chip.dataset.k = k;
      const sw = el("span", "ll-swatch", chip);
      sw.style.background = pal[k % 10];
      el("span", "", chip, String(name));
      chip.title = "Show or hide this class";
      chip.classList.toggle("ll-off", this.hidden.has(k));
      chip.addEventListener("click", () => {
        this.hidden.has(k) ? this.hidden.delete(k) : this.hidden.add(k);
        chip.classList.toggle("ll-off", this.hidden.has(k));
        this.drawBase(); this.drawOver();
      });
    });
    if (this.mapBlob.arrays.far) {
      const chip = el("span", "ll-chip ll-static", this.legend);
      el("span", "ll-swatch ll-far", chip);
      el("span", "", chip, this.meta.shade_label || "no data nearby");
    }
  }

  // ---- geometry --------------------------------------------------------------------------
  resetView(draw = true) {
    const g = this.data.view ? {x0: this.data.view[0], x1: this.data.view[1], y0: this.data.view[2], y1: this.data.view[3]} : this.meta.grid;
    this.view = {x0: g.x0, x1: g.x1, y0: g.y0, y1: g.y1};
    if (draw) { this.drawBase(); this.drawOver(); }
  }

  zoom(f, cx, cy) {
    const v = this.view;
    if (!v) return;
    cx = cx ?? (v.x0 + v.x1) / 2; cy = cy ?? (v.y0 + v.y1) / 2;
    this.view = {x0: cx + (v.x0 - cx) * f, x1: cx + (v.x1 - cx) * f,
                 y0: cy + (v.y0 - cy) * f, y1: cy + (v.y1 - cy) * f};
    this.drawBase(); this.drawOver();
  }

  layout() {
    if (!this.meta) return;
    const W = this.root.clientWidth || 600;
    this.laidW = this.root.clientWidth;
    const pres = !!this.data.presenter;
    const narrow = W < 420;  // a phone: the preview goes above the map
    this.body.classList.toggle("ll-narrow", narrow);
    const sideW = narrow ? W : Math.round(Math.min(300, Math.max(120, W * 0.26)));
    const plotW = narrow ? W : W - sideW - 12;
    const plotH = Math.round(Math.min(this.data.height || 520, Math.max(240, plotW * (narrow ? 0.85 : 0.75))));
    const imgPx = narrow ? Math.min(140, Math.round(W * 0.36)) : sideW - 8;
    this.img.style.width = this.img.style.height = imgPx + "px";
    this.side.style.width = narrow ? "" : sideW + "px";
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.over]) {
      c.width = Math.round(plotW * dpr); c.height = Math.round(plotH * dpr);
      c.style.width = plotW + "px"; c.style.height = plotH + "px";
    }
    this.plot.style.width = plotW + "px"; this.plot.style.height = plotH + "px";
    this.dpr = dpr;
    const fs = pres ? 17 : 11;
    this.box = {L: fs * 3.6 + 8, T: 8, R: 8, B: fs * 2.8 + 6, W: plotW, H: plotH, fs};
    this.drawBase(); this.drawOver();
    if (this.pointer) {
      const {x, y} = this.pointer;
      this.decodeAt(x, y, null, this.pathAt(this.px(x), this.py(y)));
    } else this.decodeRest();
  }

  // with no pointer on the map: decode the pin (or the centre of the view), so the preview
  // never sits empty
  decodeRest() {
    const p = this.data.pick, v = this.view;
    let x = (v.x0 + v.x1) / 2, y = (v.y0 + v.y1) / 2, what = "the centre of the map";
    if (p && p.kind === "point" && p.index >= 0 && p.index < this.n) {
      x = this.xy[2 * p.index]; y = this.xy[2 * p.index + 1]; what = `image ${p.index}'s spot`;
    } else if (p && p.kind === "grid") { x = p.x; y = p.y; what = "the pinned spot"; }
    const {z} = this.codeAt(x, y);
    this.drawImage(this.decoder.decode(z));
    this.showZ(z);
    this.imgCap.textContent = `Showing ${what}. Move the pointer over the map (or focus it and use the arrow keys) to decode any spot.`;
  }

  px(x) { const b = this.box, v = this.view; return b.L + (x - v.x0) / (v.x1 - v.x0) * (b.W - b.L - b.R); }
  py(y) { const b = this.box, v = this.view; return b.T + (v.y1 - y) / (v.y1 - v.y0) * (b.H - b.T - b.B); }
  dx(px) { const b = this.box, v = this.view; return v.x0 + (px - b.L) / (b.W - b.L - b.R) * (v.x1 - v.x0); }
  dy(py) { const b = this.box, v = this.view; return v.y1 - (py - b.T) / (b.H - b.T - b.B) * (v.y1 - v.y0); }
  inside(px, py) { const b = this.box; return px >= b.L && px <= b.W - b.R && py >= b.T && py <= b.H - b.B; }

  // ---- drawing ---------------------------------------------------------------------------
  ctx(c) { const g = c.getContext("2d"); g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0); return g; }

  drawBase() {
    if (!this.box || !this.meta) return;
    const g = this.ctx(this.base), b = this.box, v = this.view, pres = !!this.data.presenter;
    g.clearRect(0, 0, b.W, b.H);
    g.fillStyle = "#fff"; g.fillRect(b.L, b.T, b.W - b.L - b.R, b.H - b.T - b.B);
    g.save();
    g.beginPath(); g.rect(b.L, b.T, b.W - b.L - b.R, b.H - b.T - b.B); g.clip();
    // shaded "no data nearby" cells: grid nodes far from every point (Atlas.far_nodes)
    const far = this.mapBlob.arrays.far, gr = this.meta.grid;
    if (far) {
      const n = gr.n, cw = (gr.x1 - gr.x0) / (n - 1), ch = (gr.y1 - gr.y0) / (n - 1);
      g.fillStyle = "rgba(120,120,120,0.12)";
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        if (!far[r * n + c]) continue;
        const x = gr.x0 + c * cw, y = gr.y1 - r * ch;
        const X0 = this.px(x - cw / 2), X1 = this.px(x + cw / 2), Y0 = this.py(y + ch / 2), Y1 = this.py(y - ch / 2);
        g.fillRect(X0, Y0, X1 - X0 + 0.5, Y1 - Y0 + 0.5);
      }
    }
    // grid lines
    const sx = niceStep(v.x1 - v.x0, b.W / 110), sy = niceStep(v.y1 - v.y0, b.H / 80);
    g.strokeStyle = "#ececec"; g.lineWidth = 1; g.beginPath();
    for (let x = Math.ceil(v.x0 / sx) * sx; x <= v.x1; x += sx) { g.moveTo(this.px(x), b.T); g.lineTo(this.px(x), b.H - b.B); }
    for (let y = Math.ceil(v.y0 / sy) * sy; y <= v.y1; y += sy) { g.moveTo(b.L, this.py(y)); g.lineTo(b.W - b.R, this.py(y)); }
    g.stroke();
    // points, one path per class
    const pal = pres ? SAFE : PALETTE, r = (pres ? 1.7 : 1) * (this.n > 3000 ? 2.4 : 3.5);
    const xy = this.xy, lab = this.labels;
    for (let k = 0; k < this.meta.classes.length; k++) {
      if (this.hidden.has(k) || !this.meta.present[k]) continue;
      g.beginPath();
      const shape = pres ? SHAPES[k % 10] : "circle";
      for (let i = 0; i < this.n; i++) {
        if (lab[i] !== k) continue;
        shapePath(g, shape, this.px(xy[2 * i]), this.py(xy[2 * i + 1]), r);
      }
      g.fillStyle = pal[k % 10]; g.fill();
      if (pres) { g.strokeStyle = "#222"; g.lineWidth = 0.5; g.stroke(); }
    }
    g.restore();
    // axes: ticks, labels and titles
    g.fillStyle = pres ? "#111" : "#555"; g.font = `${b.fs}px sans-serif`;
    g.textAlign = "center"; g.textBaseline = "top";
    const fmt = (t, s) => Math.abs(t) < s / 1e6 ? "0" : +t.toFixed(Math.max(0, -Math.floor(Math.log10(s))));
    for (let x = Math.ceil(v.x0 / sx) * sx; x <= v.x1; x += sx) g.fillText(fmt(x, sx), this.px(x), b.H - b.B + 3);
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let y = Math.ceil(v.y0 / sy) * sy; y <= v.y1; y += sy) g.fillText(fmt(y, sy), b.L - 4, this.py(y));
    g.textAlign = "center"; g.textBaseline = "bottom";
    g.font = `${pres ? "bold " : ""}${b.fs + 1}px sans-serif`;
    g.fillText(this.meta.axes[0], (b.L + b.W - b.R) / 2, b.H - 1);
    g.save(); g.translate(b.fs + 2, (b.T + b.H - b.B) / 2); g.rotate(-Math.PI / 2);
    g.textBaseline = "middle"; g.fillText(this.meta.axes[1], 0, 0); g.restore();
    g.strokeStyle = "#bbb"; g.strokeRect(b.L, b.T, b.W - b.L - b.R, b.H - b.T - b.B);
  }

  drawOver() {
    if (!this.box || !this.meta) return;
    const g = this.ctx(this.over), b = this.box, d = this.data, pres = !!d.presenter, s = pres ? 1.7 : 1;
    g.clearRect(0, 0, b.W, b.H);
    g.save(); g.beginPath(); g.rect(b.L, b.T, b.W - b.L - b.R, b.H - b.T - b.B); g.clip();
    const P = (p) => [this.px(p[0]), this.py(p[1])];
    if (d.flagged && d.flagged.length) {  // anomalies: red rings
      g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath();
      for (const i of d.flagged) { if (i >= 0 && i < this.n) shapePath(g, "circle", this.px(this.xy[2 * i]), this.py(this.xy[2 * i + 1]), 5.5 * s); }
      g.stroke();
    }
    if (d.path && d.path.xy && d.path.xy.length) {  // interpolation path
      g.strokeStyle = "#000"; g.lineWidth = 2 * s; g.beginPath();
      d.path.xy.forEach((p, i) => { const [X, Y] = P(p); i ? g.lineTo(X, Y) : g.moveTo(X, Y); });
      g.stroke(); g.fillStyle = "#000";
      for (const p of d.path.xy) { const [X, Y] = P(p); g.beginPath(); g.arc(X, Y, 2.5 * s, 0, 7); g.fill(); }
    }
    for (const o of d.overlays || []) {  // samples, interpolation end B, class clicks
      g.strokeStyle = o.color || "#000"; g.fillStyle = o.color || "#000"; g.lineWidth = o.line ? o.line * s : 2;
      (o.xy || []).forEach((p, i) => {
        const [X, Y] = P(p);
        g.beginPath(); shapePath(g, o.symbol || "diamond", X, Y, (o.size || 5) * s);
        if (o.fill) { g.fillStyle = o.fill; g.fill(); g.fillStyle = o.color || "#000"; }  // e.g. drawings: white inside
        g.stroke();
        if (o.text && o.text[i] !== undefined) {
          g.font = `bold ${Math.round(11 * s)}px sans-serif`; g.textAlign = "left"; g.textBaseline = "bottom";
          g.fillText(String(o.text[i]), X + 6 * s, Y - 4 * s);
        }
      });
    }
    const pick = d.pick;  // the pinned point (ring) or spot (cross)
    if (pick && pick.kind === "point" && pick.index >= 0 && pick.index < this.n) {
      const X = this.px(this.xy[2 * pick.index]), Y = this.py(this.xy[2 * pick.index + 1]);
      g.strokeStyle = "#000"; g.lineWidth = 3; g.beginPath(); g.arc(X, Y, 9 * s, 0, 7); g.stroke();
    } else if (pick && pick.kind === "grid") {
      const X = this.px(pick.x), Y = this.py(pick.y), r = 7 * s;
      g.strokeStyle = "#000"; g.lineWidth = 3; g.beginPath();
      g.moveTo(X - r, Y - r); g.lineTo(X + r, Y + r); g.moveTo(X + r, Y - r); g.lineTo(X - r, Y + r); g.stroke();
    }
    if (this.extraOver) this.extraOver(g, s);  // a drawing's code or posterior (drawpad.js)
    const c = this.pointer || this.linked;  // the cursor being decoded
    if (c) {
      const X = this.px(c.x), Y = this.py(c.y);
      g.strokeStyle = this.linked && !this.pointer ? "#d62728" : "#111"; g.lineWidth = 1.5;
      g.beginPath(); g.arc(X, Y, 6 * s, 0, 7);
      g.moveTo(X - 11 * s, Y); g.lineTo(X - 3 * s, Y); g.moveTo(X + 3 * s, Y); g.lineTo(X + 11 * s, Y);
      g.moveTo(X, Y - 11 * s); g.lineTo(X, Y - 3 * s); g.moveTo(X, Y + 3 * s); g.lineTo(X, Y + 11 * s);
      g.stroke();
    }
    g.restore();
  }

  // ---- the inverse: map position -> latent code ------------------------------------------
  codeAt(x, y) {
    const m = this.meta, A = this.mapBlob.arrays, k = m.latent_dim;
    const z = this.zbuf && this.zbuf.length === k ? this.zbuf : (this.zbuf = new Float64Array(k));
    let note = m.note, snapped = -1;
    if (m.inverse === "plane") {  // exact: z = origin + x u + y v (identity: unit axes)
      const P = A.plane;
      for (let j = 0; j < k; j++) z[j] = P[j] + x * P[k + j] + y * P[2 * k + j];
    } else if (m.inverse === "grid") {  // bilinear between the 4 grid nodes around (x, y)
      const g = m.grid, n = g.n, G = A.grid;
      const fx = Math.min(Math.max((x - g.x0) / (g.x1 - g.x0) * (n - 1), 0), n - 1);
      const fy = Math.min(Math.max((g.y1 - y) / (g.y1 - g.y0) * (n - 1), 0), n - 1);
      const c0 = Math.min(Math.floor(fx), n - 2), r0 = Math.min(Math.floor(fy), n - 2);
      const tx = fx - c0, ty = fy - r0;
      const i00 = (r0 * n + c0) * k, i01 = i00 + k, i10 = i00 + n * k, i11 = i10 + k;
      for (let j = 0; j < k; j++) {
        z[j] = (1 - ty) * ((1 - tx) * G[i00 + j] + tx * G[i01 + j]) + ty * ((1 - tx) * G[i10 + j] + tx * G[i11 + j]);
      }
    } else {  // snap: no inverse at all
      snapped = this.nearest(this.px(x), this.py(y), Infinity, true);
      const C = A.codes;
      for (let j = 0; j < k; j++) z[j] = C[snapped * k + j];
      note = `${m.note} (${snapped})`;
    }
    return {z, note, snapped};
  }

  // index of the nearest visible point within rpx pixels (or -1)
  nearest(X, Y, rpx, anyClass) {
    let best = -1, bd = rpx * rpx;
    const xy = this.xy, v = this.view, b = this.box;
    const ax = (b.W - b.L - b.R) / (v.x1 - v.x0), ay = (b.H - b.T - b.B) / (v.y1 - v.y0);
    for (let i = 0; i < this.n; i++) {
      if (!anyClass && this.hidden.has(this.labels[i])) continue;
      const ddx = b.L + (xy[2 * i] - v.x0) * ax - X, ddy = b.T + (v.y1 - xy[2 * i + 1]) * ay - Y;
      const dd = ddx * ddx + ddy * ddy;
      if (dd < bd) { bd = dd; best = i; }
    }
    return best;
  }

  farAt(x, y) {
    const far = this.mapBlob.arrays.far, g = this.meta.grid;
    if (!far) return false;
    const c = Math.round((x - g.x0) / (g.x1 - g.x0) * (g.n - 1)), r = Math.round((g.y1 - y) / (g.y1 - g.y0) * (g.n - 1));
    if (c < 0 || r < 0 || c >= g.n || r >= g.n) return true;
    return !!far[r * g.n + c];
  }

  // ---- decoding and the side panel -------------------------------------------------------
  decodeAt(x, y, ev, pathHit) {
    let z, note;
    if (pathHit) { z = pathHit.z; note = pathHit.note; }
    else ({z, note} = this.codeAt(x, y));
    this.drawImage(this.decoder.decode(z));
    this.imgCap.textContent = note + (this.farAt(x, y) && !pathHit ? ". " + (this.meta.shade_note || "") : "");
    this.showZ(z);
    if (ev) LL.lat.length < 5000 && LL.lat.push(performance.now() - ev.timeStamp);
    if (this.data.link) {
      LL.bus.dispatchEvent(new CustomEvent("link", {detail: {group: this.data.link, src: this, z: Array.from(z)}}));
    }
  }

  drawImage(px) {
    const [c, h, w] = this.decoder.shape, d = this.imgData.data, hw = h * w;
    for (let q = 0; q < hw; q++) {
      const o = 4 * q;
      if (c === 1) { const v = Math.round(255 * px[q]); d[o] = d[o + 1] = d[o + 2] = v; }
      else { d[o] = Math.round(255 * px[q]); d[o + 1] = Math.round(255 * px[hw + q]); d[o + 2] = Math.round(255 * px[2 * hw + q]); }
      d[o + 3] = 255;
    }
    this.img.getContext("2d").putImageData(this.imgData, 0, 0);
    this.img.dataset.sum = String(d.reduce((s, v) => s + v, 0));  // lets tests see a change
  }

  showZ(z) {
    const k = z.length, shown = Array.from(z.slice(0, 8), (v) => v.toFixed(2)).join(", ");
    this.zText.textContent = `z (${k}-D) = [${shown}${k > 8 ? ", …" : ""}]`;
  }

  linkedMove(e) {
    if (e.src === this || !this.meta || e.group !== this.data.link) return;
    if (!e.z || e.z.length !== this.meta.latent_dim) { this.linked = null; this.drawOver(); return; }
    const z = Float64Array.from(e.z);
    this.linked = this.placeCode(z);
    this.drawImage(this.decoder.decode(z));
    this.imgCap.textContent = "the same z as under the pointer on the other map";
    this.showZ(z);
    this.drawOver();
  }

  // map position of a code: exact for a 2-D latent on a plane map (solve x u + y v = z - o)
  placeCode(z) {
    const m = this.meta, P = this.mapBlob.arrays.plane;
    if (m.inverse !== "plane" || m.latent_dim !== 2) return null;
    const a = P[2], b = P[4], c = P[3], d = P[5], det = a * d - b * c;
    if (Math.abs(det) < 1e-12) return null;
    const r0 = z[0] - P[0], r1 = z[1] - P[1];
    return {x: (r0 * d - b * r1) / det, y: (a * r1 - c * r0) / det};
  }

  // nearest spot on the interpolation path within 14 px: the code there, lerped between frames
  pathAt(X, Y) {
    const p = this.data.path;
    if (!p || !p.xy || p.xy.length < 2 || !p.z) return null;
    let best = null, bd = 14 * 14;
    for (let i = 0; i + 1 < p.xy.length; i++) {
      const ax = this.px(p.xy[i][0]), ay = this.py(p.xy[i][1]), bx = this.px(p.xy[i + 1][0]), by = this.py(p.xy[i + 1][1]);
      const L = (bx - ax) ** 2 + (by - ay) ** 2, t = L ? Math.min(Math.max(((X - ax) * (bx - ax) + (Y - ay) * (by - ay)) / L, 0), 1) : 0;
      const dd = (ax + t * (bx - ax) - X) ** 2 + (ay + t * (by - ay) - Y) ** 2;
      if (dd <= bd) { bd = dd; best = {i, t}; }
    }
    if (!best) return null;
    const za = p.z[best.i], zb = p.z[best.i + 1], z = new Float64Array(za.length);
    for (let j = 0; j < za.length; j++) z[j] = za[j] + best.t * (zb[j] - za[j]);
    return {z, note: `on the path: frame ${(best.i + best.t + 1).toFixed(1)} of ${p.xy.length}`};
  }

  // ---- input -----------------------------------------------------------------------------
  local(e) { const r = this.over.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }

  hover(X, Y, ev) {
    if (!this.meta) return;
    if (!this.inside(X, Y)) { this.leave(); return; }
    const x = this.dx(X), y = this.dy(Y);
    this.pointer = {x, y};
    this.decodeAt(x, y, ev, this.pathAt(X, Y));
    const i = this.nearest(X, Y, 8, false);
    if (i >= 0) {
      this.tip.textContent = `image ${i} · label ${this.meta.classes[this.labels[i]]}`;
      this.tip.style.left = Math.min(X + 12, this.box.W - 150) + "px";
      this.tip.style.top = Math.max(Y - 30, 0) + "px";
      this.tip.style.display = "block";
    } else this.tip.style.display = "none";
    this.drawOver();
  }

  leave() {
    this.pointer = null; this.tip.style.display = "none"; this.drawOver();
    if (this.meta) this.decodeRest();
    if (this.data.link) LL.bus.dispatchEvent(new CustomEvent("link", {detail: {group: this.data.link, src: this, z: null}}));
  }

  pin(X, Y, touch) {
    if (!this.meta || !this.data.pins || !this.inside(X, Y)) return;
    const i = this.nearest(X, Y, touch ? 14 : 8, false);
    const seq = (this.seq = (this.seq || 0) + 1);
    const value = i >= 0 ? {kind: "point", index: i, seq} : {kind: "grid", x: this.dx(X), y: this.dy(Y), seq};
    LL.lastPin = performance.now();
    this.data = {...this.data, pick: value};  // draw the pin at once; Python confirms it
    this.drawOver();
    if (this.data.post) this.send(value);
    else this.component.setTriggerValue("pin", value);
  }

  // A class pin: one POST to the class API (no script run); the reply is shown under the map.
  send(value) {
    const p = this.data.post, t0 = performance.now();
    const pick = value.kind === "point" ? {kind: "point", index: value.index} : {kind: "grid", x: value.x, y: value.y};
    this.sent.className = "ll-sent";
    this.sent.textContent = "Sending your pin…";
    this.detail.style.display = "none";
    fetch(p.url, {method: "POST", headers: {"Content-Type": "application/json"},
                  body: JSON.stringify({...p.body, pick})})
      .then((r) => r.json().catch(() => ({ok: false, error: `the server answered ${r.status}`})))
      .catch(() => ({ok: false, error: "the server cannot be reached; try again"}))
      .then((a) => {
        if (value.seq !== this.seq) return;  // a newer pin is on its way
        (LL.sentLat = LL.sentLat || []).push(performance.now() - t0);
        this.sent.className = "ll-sent " + (a.ok ? "ll-ok" : "ll-bad");
        this.lastSent = a.ok ? pick : null;
        this.detail.style.display = a.ok && this.data.details ? "" : "none";
        this.sent.textContent = a.ok ? "✓ Sent to the lecturer's map."
          : a.retry_after_s !== undefined ? `Slow down: wait ${Number(a.retry_after_s).toFixed(1)} s before the next pin.`
          : `Your pin was not sent: ${String(a.error || "unknown error").slice(0, 300)}`;
      });
  }

  bindEvents() {
    const o = this.over;
    o.addEventListener("pointerdown", (e) => {
      o.focus({preventScroll: true});
      const [X, Y] = this.local(e);
      this.drag = {X, Y, view: {...this.view}, moved: false, touch: e.pointerType !== "mouse", id: e.pointerId};
      o.setPointerCapture(e.pointerId);
      if (this.drag.touch) this.hover(X, Y, e);  // a finger decodes where it lands
    });
    o.addEventListener("pointermove", (e) => {
      const [X, Y] = this.local(e), d = this.drag;
      if (d && d.id === e.pointerId) {
        if (Math.hypot(X - d.X, Y - d.Y) > (d.touch ? 10 : 4)) d.moved = true;
        if (!d.touch && d.moved) {  // mouse drag pans
          const v = d.view, fx = (v.x1 - v.x0) / (this.box.W - this.box.L - this.box.R), fy = (v.y1 - v.y0) / (this.box.H - this.box.T - this.box.B);
          const sx = (X - d.X) * fx, sy = (Y - d.Y) * fy;
          this.view = {x0: v.x0 - sx, x1: v.x1 - sx, y0: v.y0 + sy, y1: v.y1 + sy};
          this.drawBase();
        }
      }
      this.hover(X, Y, e);  // touch drags scrub: decode under the finger
    });
    o.addEventListener("pointerup", (e) => {
      const d = this.drag; this.drag = null;
      if (!d || d.id !== e.pointerId) return;
      const [X, Y] = this.local(e);
      if (!d.moved) this.pin(X, Y, d.touch);
    });
    o.addEventListener("pointercancel", () => { this.drag = null; });
    o.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse" && !this.drag) this.leave(); });
    o.addEventListener("dblclick", () => this.resetView());
    o.addEventListener("wheel", (e) => {  // zoom only once the map has focus: never trap page scrolling
      if (this.root.getRootNode().activeElement !== o && document.activeElement !== o) return;
      e.preventDefault();
      const [X, Y] = this.local(e);
      this.zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, this.dx(X), this.dy(Y));
    }, {passive: false});
    o.addEventListener("keydown", (e) => {
      if (!this.meta) return;
      const v = this.view, step = (e.shiftKey ? 0.1 : 0.025);
      const c = this.pointer || {x: (v.x0 + v.x1) / 2, y: (v.y0 + v.y1) / 2};
      const moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]};
      if (moves[e.key]) {
        e.preventDefault();
        const x = Math.min(Math.max(c.x + moves[e.key][0] * step * (v.x1 - v.x0), v.x0), v.x1);
        const y = Math.min(Math.max(c.y + moves[e.key][1] * step * (v.y1 - v.y0), v.y0), v.y1);
        this.hover(this.px(x), this.py(y), e);
      } else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.pin(this.px(c.x), this.py(c.y), false);
      } else if (e.key === "+" || e.key === "=") this.zoom(1 / 1.5);
      else if (e.key === "-") this.zoom(1.5);
      else if (e.key === "0") this.resetView();
    });
  }
}

// Mount (or update) a map in a component's parentElement; the CSS goes into its shadow root.
LL.mount = function (component) {
  const {parentElement, data} = component;
  let root = parentElement.querySelector(".ll-root-host");
  if (!root) {
    const style = document.createElement("style");
    style.textContent = window.__latentlabCss || "";
    parentElement.appendChild(style);
    root = document.createElement("div");
    root.className = "ll-root-host";
    parentElement.appendChild(root);
    root.__map = new LatentMap(root, component);
  }
  root.__map.component = component;
  root.__map.update(data);
};
for (const c of (window.__latentlabWaiting || []).splice(0)) LL.mount(c);
