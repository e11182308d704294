// "Draw your own": a drawing pad beside a latent map (ui/draw.py). Everything after a stroke
// runs here, in the page: normalise the ink to the model's input (the same steps as
// aecore/drawing.py normalise, line for line), run the encoder (an op list exported by
// aecore.export.encoder_program, run by llMakeDecoder), draw the code (AE) or the posterior
// ellipse and reparameterised samples (VAE) on the map, decode, and rank the reconstruction
// error among the test set's. Nothing goes to the server per stroke.
// Arrives with the carrier (after decoder.js and latentmap.js); the element's stub calls
// LL.mountDraw.

const LLD_PAD = 112, LLD_SS = 8, LLD_INK_MIN = 0.05;  // aecore.drawing PAD, SUPERSAMPLE, INK_MIN
LL.drawLat = LL.drawLat || [];  // pointerup -> ellipse drawn, ms (bench/draw_latency.py)
LL.drawFrame = LL.drawFrame || [];  // pointerup -> the next animation frame, ms

function lldDigitBox(h, w) { const s = Math.min(h, w); return s <= 16 ? s : Math.max(1, Math.round(s * 20 / 28)); }

// aecore.drawing.normalise: crop the ink's box, scale it into the digit box, box-filter down
function lldNormalise(ink, s, h, w) {
  const out = new Float64Array(h * w);
  let r0 = s, r1 = -1, c0 = s, c1 = -1;
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) {
    if (ink[r * s + c] >= LLD_INK_MIN) { if (r < r0) r0 = r; if (r > r1) r1 = r; if (c < c0) c0 = c; if (c > c1) c1 = c; }
  }
  if (r1 < 0) return out;
  r1 += 1; c1 += 1;
  const side = Math.max(r1 - r0, c1 - c0), cy = (r0 + r1) / 2, cx = (c0 + c1) / 2;
  const scale = side / lldDigitBox(h, w), k = LLD_SS;
  let top = 0;
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let acc = 0;
    for (let u = 0; u < k; u++) {
      const py = Math.floor(cy + (i + (u + 0.5) / k - h / 2) * scale);
      if (py < 0 || py >= s) continue;
      for (let v = 0; v < k; v++) {
        const px = Math.floor(cx + (j + (v + 0.5) / k - w / 2) * scale);
        if (px >= 0 && px < s) acc += ink[py * s + px];
      }
    }
    out[i * w + j] = acc / (k * k);
    if (out[i * w + j] > top) top = out[i * w + j];
  }
  if (top > 0) for (let q = 0; q < out.length; q++) out[q] /= top;
  return out;
}

// a small seeded generator (mulberry32) and Box-Muller normals: eps ~ N(0, 1)
function lldRng(seed) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

// aecore.drawing.posterior_ellipse: the k-sigma ellipse of N(mu, diag(var)) on the map plane
function lldEllipse(mu, v, P, k) {
  const d = mu.length, U = [new Float64Array(d), new Float64Array(d)], c = [0, 0];
  for (let r = 0; r < 2; r++) {
    let n2 = 0;
    for (let j = 0; j < d; j++) n2 += P[(r + 1) * d + j] ** 2;
    for (let j = 0; j < d; j++) { U[r][j] = P[(r + 1) * d + j] / n2; c[r] += U[r][j] * (mu[j] - P[j]); }
  }
  let a = 0, b = 0, e = 0;  // covariance [[a, e], [e, b]]
  for (let j = 0; j < d; j++) { a += U[0][j] * U[0][j] * v[j]; b += U[1][j] * U[1][j] * v[j]; e += U[0][j] * U[1][j] * v[j]; }
  const m = (a + b) / 2, q = Math.sqrt(((a - b) / 2) ** 2 + e * e), l1 = m + q, l2 = Math.max(m - q, 0);
  const angle = Math.abs(e) < 1e-300 ? (a >= b ? 0 : Math.PI / 2) : Math.atan2(l1 - a, e);
  return {center: c, half: [k * Math.sqrt(l1), k * Math.sqrt(l2)], angle};
}

function lldPlace(z, P) {
  const d = z.length, xy = [0, 0];
  for (let r = 0; r < 2; r++) {
    let n2 = 0, s = 0;
    for (let j = 0; j < d; j++) { n2 += P[(r + 1) * d + j] ** 2; s += (z[j] - P[j]) * P[(r + 1) * d + j]; }
    xy[r] = s / n2;
  }
  return xy;
}

function lldGrey(canvas, px, h, w) {
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d"), im = g.createImageData(w, h);
  for (let q = 0; q < h * w; q++) {
    const val = Math.round(255 * Math.min(Math.max(px[q], 0), 1));
    im.data[4 * q] = im.data[4 * q + 1] = im.data[4 * q + 2] = val; im.data[4 * q + 3] = 255;
  }
  g.putImageData(im, 0, 0);
}

class DrawPad {
  constructor(root, component) {
    this.root = root; this.component = component; this.strokes = 0; this.result = null;
    root.classList.add("ld-root");
    const left = el("div", "ld-left", root);
    el("div", "ld-title", left, "Draw here (mouse, pen or finger)");
    this.pad = el("canvas", "ld-pad", left);
    this.pad.width = this.pad.height = LLD_PAD;
    this.pad.getContext("2d", {willReadFrequently: true});  // read back after every stroke
    this.pad.setAttribute("role", "img");
    this.pad.setAttribute("aria-label", "Drawing pad: draw a digit; each finished stroke is encoded.");
    const row = el("div", "ld-row", left);
    const clear = el("button", "ll-btn ld-clear", row, "Clear");
    clear.type = "button";
    clear.addEventListener("click", () => this.clear());
    this.noiseBox = el("label", "ld-noise", row);
    el("span", "", this.noiseBox, "noise σ ");
    this.noise = el("input", "", this.noiseBox);
    this.noise.type = "range"; this.noise.min = "0"; this.noise.max = "0.8"; this.noise.step = "0.05"; this.noise.value = "0";
    this.noiseVal = el("span", "", this.noiseBox, "0.00");
    this.noise.addEventListener("input", () => { this.noiseVal.textContent = (+this.noise.value).toFixed(2); this.run(null); });
    // a student in a class (ui/classdraw.py): send the model-input pixels, nothing else
    this.sendRow = el("div", "ld-row ld-sendrow", left);
    this.sendBtn = el("button", "ll-btn ld-send", this.sendRow, "Send to the class map");
    this.sendBtn.type = "button";
    this.sendBtn.addEventListener("click", () => this.send());
    this.sendMsg = el("div", "ld-sendmsg", left, "");
    this.sendRow.style.display = this.sendMsg.style.display = "none";
    this.sendSeq = 0;
    const pics = el("div", "ld-pics", left);
    const pic = (cap) => { const f = el("figure", "ld-fig", pics); const c = el("canvas", "ld-px", f); el("figcaption", "", f, cap); return c; };
    this.inCanvas = pic("what the model sees x");
    this.recCanvas = pic("reconstruction x̂");
    this.errText = el("div", "ld-err", left, "Draw a digit: each finished stroke is encoded at once.");
    this.hist = el("canvas", "ld-hist", left);
    this.sampTitle = el("div", "ld-title", left, "");
    this.strip = el("div", "ld-strip", left);
    this.mapHost = el("div", "ld-right", root);
    this.map = new LatentMap(this.mapHost, component);
    this.map.extraOver = (g, s) => this.drawOnMap(g, s);
    this.bind();
  }

  update(data) {
    this.data = data;
    this.root.classList.toggle("ld-presenter", !!data.presenter);
    this.map.component = this.component;
    this.map.update({key: data.map_key, map: data.map, decoder: data.decoder, pins: false,
                     height: data.height, presenter: data.presenter, side_title: data.side_title});
    this.noiseBox.style.display = data.noise ? "" : "none";
    this.sampTitle.textContent = data.vae ? `${data.samples} samples z = μ + σ·ε, decoded` : "";
    this.strip.style.display = data.vae ? "" : "none";
    const snd = data.send;
    this.sendRow.style.display = this.sendMsg.style.display = snd ? "" : "none";
    if (snd) {
      this.sendBtn.textContent = snd.label;
      this.sendMsg.textContent = snd.status || "";
      this.sendMsg.classList.toggle("ld-sent", !!snd.ok);
      this.sendBtn.disabled = !this.result;
    }
    const pen = this.pad.getContext("2d");
    pen.lineCap = pen.lineJoin = "round"; pen.strokeStyle = "#000";
    pen.lineWidth = data.width * LLD_PAD;
    this.ready();
  }

  ready() {  // the encoder blob may arrive after this element
    const e = LL.blobs.get(this.data.encoder);
    if (!e) { LL.bus.addEventListener("blob", () => this.ready(), {once: true}); return false; }
    if (!LL.decoders.has(this.data.encoder)) LL.decoders.set(this.data.encoder, llMakeDecoder(e));
    this.encoder = LL.decoders.get(this.data.encoder);
    this.drawHist();
    return true;
  }

  bind() {
    const p = this.pad, pen = () => p.getContext("2d");
    const at = (e) => { const r = p.getBoundingClientRect(); return [(e.clientX - r.left) / r.width * LLD_PAD, (e.clientY - r.top) / r.height * LLD_PAD]; };
    p.addEventListener("pointerdown", (e) => {
      e.preventDefault(); p.setPointerCapture(e.pointerId);
      this.down = e.pointerId; this.last = at(e);
      const g = pen(); g.beginPath(); g.moveTo(...this.last); g.lineTo(...this.last); g.stroke();
    });
    p.addEventListener("pointermove", (e) => {
      if (this.down !== e.pointerId) return;
      const q = at(e), g = pen();
      g.beginPath(); g.moveTo(...this.last); g.lineTo(...q); g.stroke(); this.last = q;
    });
    const end = (e) => { if (this.down !== e.pointerId) return; this.down = null; this.strokes++; this.run(e); };
    p.addEventListener("pointerup", end);
    p.addEventListener("pointercancel", end);
  }

  clear() {
    this.pad.getContext("2d").clearRect(0, 0, LLD_PAD, LLD_PAD);
    this.strokes = 0; this.result = null;
    this.sendBtn.disabled = true;
    for (const c of [this.inCanvas, this.recCanvas]) c.getContext("2d").clearRect(0, 0, c.width, c.height);
    this.strip.textContent = "";
    this.errText.textContent = "Draw a digit: each finished stroke is encoded at once.";
    this.drawHist(); this.map.drawOver();
  }

  // the drawing as the model sees it (the clean x, before any noise), H*W grey values 0..255
  modelPixels() {
    return this.result ? this.result.x.map((v) => Math.round(255 * Math.min(Math.max(v, 0), 1))) : null;
  }

  send() {
    const px = this.modelPixels();
    if (!px || !this.data || !this.data.send) return;
    this.sendBtn.disabled = true; this.sendMsg.textContent = "Sending…"; this.sendMsg.classList.remove("ld-sent");
    this.component.setTriggerValue("send", {pixels: px, seq: ++this.sendSeq});
  }

  ink() {
    const a = this.pad.getContext("2d").getImageData(0, 0, LLD_PAD, LLD_PAD).data, ink = new Float64Array(LLD_PAD * LLD_PAD);
    for (let q = 0; q < ink.length; q++) ink[q] = a[4 * q + 3] / 255;
    return ink;
  }

  // the whole pipeline, from the pad's ink to the map, the strip and the histogram
  run(ev) {
    const d = this.data, m = this.map;
    if (!d || !this.strokes || !m.meta || !(this.encoder || this.ready())) return;
    const [, h, w] = d.shape, D = d.latent_dim;
    const x = lldNormalise(this.ink(), LLD_PAD, h, w);
    let xin = x;
    const sd = d.noise ? +this.noise.value : 0;
    if (sd > 0) {  // aecore.noise "gaussian": x + N(0, sd^2), clipped to [0, 1]
      const eps = lldRng(1000 + this.strokes);
      xin = x.map((v) => Math.min(Math.max(v + sd * eps(), 0), 1));
    }
    const out = Float64Array.from(this.encoder.decode(xin));
    const mu = out.slice(0, D);
    const P = m.mapBlob.arrays.plane;
    const r = {x: Array.from(x), xin: Array.from(xin), mu: Array.from(mu), at: lldPlace(mu, P)};
    if (d.vae) {  // logvar clamped as VAE.encode does; sigma = exp(logvar / 2)
      const lv = out.slice(D, 2 * D).map((v) => Math.min(Math.max(v, -30), 20));
      r.logvar = Array.from(lv);
      r.sigma = r.logvar.map((v) => Math.exp(v / 2));
      r.ellipse = lldEllipse(mu, r.sigma.map((s) => s * s), P, 1);
      const eps = lldRng(this.strokes);
      r.samples = [];
      for (let n = 0; n < d.samples; n++) {
        const z = mu.map((v, j) => v + r.sigma[j] * eps());
        r.samples.push({z: Array.from(z), at: lldPlace(z, P), img: Float32Array.from(m.decoder.decode(z))});
      }
    }
    const xhat = Float32Array.from(m.decoder.decode(mu));
    let err = 0;  // the model's loss on the clean drawing (aecore.losses.reconstruction_per_image)
    for (let q = 0; q < x.length; q++) {
      if (d.recon_loss === "bce") {
        const p = Math.min(Math.max(xhat[q], 1e-7), 1 - 1e-7);
        err -= x[q] * Math.log(p) + (1 - x[q]) * Math.log(1 - p);
      } else err += (x[q] - xhat[q]) ** 2;
    }
    r.error = err;
    r.rank = 100 * d.errors.filter((e) => e < err).length / d.errors.length;
    this.result = r;
    this.sendBtn.disabled = false;
    m.drawOver();  // the code / ellipse on the map first: that is what the latency counts
    if (ev) {
      LL.drawLat.length < 5000 && LL.drawLat.push(performance.now() - ev.timeStamp);
      const t = ev.timeStamp;
      requestAnimationFrame(() => LL.drawFrame.length < 5000 && LL.drawFrame.push(performance.now() - t));
    }
    lldGrey(this.inCanvas, xin, h, w);
    lldGrey(this.recCanvas, xhat, h, w);
    this.inCanvas.dataset.sum = String(Math.round(x.reduce((s, v) => s + v, 0) * 1000));
    this.strip.textContent = "";
    for (const s of r.samples || []) {
      const c = el("canvas", "ld-px ld-small", this.strip);
      lldGrey(c, s.img, h, w);
      c.title = `z = [${s.z.map((v) => v.toFixed(2)).join(", ")}]`;
    }
    const over = err > d.p95;
    const share = r.rank >= 100 ? "all" : `${Math.floor(r.rank)} % of the`;
    this.errText.textContent = `Reconstruction error ${err.toFixed(1)} ${d.unit}: higher than ` +
      `${share} ${d.errors.length} test images` +
      (over ? ` — above the 95th percentile (${d.p95.toFixed(1)}): the model treats it as an anomaly.`
            : ` (the 95th percentile is ${d.p95.toFixed(1)}).`);
    this.errText.classList.toggle("ld-anom", over);
    this.drawHist();
  }

  drawOnMap(g, s) {
    const r = this.result, m = this.map;
    if (!r) return;
    const X = (p) => m.px(p[0]), Y = (p) => m.py(p[1]);
    if (r.ellipse) {
      const e = r.ellipse, sx = (m.box.W - m.box.L - m.box.R) / (m.view.x1 - m.view.x0), sy = (m.box.H - m.box.T - m.box.B) / (m.view.y1 - m.view.y0);
      g.save(); g.translate(X(e.center), Y(e.center)); g.scale(sx, -sy); g.rotate(e.angle);
      g.beginPath(); g.ellipse(0, 0, Math.max(e.half[0], 1e-9), Math.max(e.half[1], 1e-9), 0, 0, 2 * Math.PI);
      g.restore();
      g.fillStyle = "rgba(214,39,40,0.15)"; g.fill();
      g.strokeStyle = "#d62728"; g.lineWidth = 2.5 * s; g.stroke();
      g.fillStyle = "#111";
      for (const smp of r.samples) { g.beginPath(); g.arc(X(smp.at), Y(smp.at), 3.5 * s, 0, 7); g.fill(); }
    }
    g.strokeStyle = "#d62728"; g.fillStyle = "#fff"; g.lineWidth = 2.5 * s;  // mu / the code: a star
    g.beginPath(); shapePath(g, "star", X(r.at), Y(r.at), 7 * s); g.fill(); g.stroke();
  }

  drawHist() {
    const d = this.data, c = this.hist, W = c.clientWidth || 260, H = 96, dpr = window.devicePixelRatio || 1;
    if (!d || !d.errors.length) return;
    c.width = W * dpr; c.height = H * dpr;
    const g = c.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const errs = d.errors, e = this.result ? this.result.error : null;
    const lo = 0, hi = Math.max(errs[errs.length - 1], e ?? 0) * 1.05, nb = 30, counts = new Array(nb).fill(0);
    for (const v of errs) counts[Math.min(nb - 1, Math.floor((v - lo) / (hi - lo) * nb))]++;
    const top = Math.max(...counts), L = 4, B = H - 16, Wd = W - 8;
    g.fillStyle = "#9aa7b4";
    counts.forEach((n, i) => { const bh = n / top * (B - 6); g.fillRect(L + i * Wd / nb, B - bh, Wd / nb - 1, bh); });
    const xat = (v) => L + (v - lo) / (hi - lo) * Wd;
    g.strokeStyle = "#555"; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(xat(d.p95), 4); g.lineTo(xat(d.p95), B); g.stroke(); g.setLineDash([]);
    g.fillStyle = "#444"; g.font = "11px sans-serif"; g.textBaseline = "top"; g.textAlign = "left";
    g.fillText(`test errors (${d.unit}); dashed: 95th percentile`, L, B + 3);
    if (e !== null) { g.strokeStyle = "#d62728"; g.lineWidth = 3; g.beginPath(); g.moveTo(xat(e), 2); g.lineTo(xat(e), B); g.stroke(); }
  }
}

LL.mountDraw = function (component) {
  const {parentElement, data} = component;
  let root = parentElement.querySelector(".ld-root-host");
  if (!root) {
    const style = document.createElement("style");
    style.textContent = window.__latentlabCss || "";
    parentElement.appendChild(style);
    root = el("div", "ld-root-host", parentElement);
    root.__pad = new DrawPad(root, component);
  }
  root.__pad.component = component;
  root.__pad.update(data);
  LL.pads = LL.pads || new Map();
  LL.pads.set(data.key, root.__pad);
};
for (const c of (window.__latentlabWaitingDraw || []).splice(0)) LL.mountDraw(c);
