// "Watch it learn": a training recording (aecore.recording) played back on a latent map, in
// the page. The frames arrive once, in a carrier blob ("frames:<checkpoint id>"); the epoch
// slider and the Play button only swap which frame's positions the map draws, so no frame
// costs a rerun. The pointer decodes as on the static map, with the decoder blob it is given
// (the final weights: intermediate weights are not recorded).
// Arrives with the carrier (after latentmap.js); the element's stub calls LL.mountFrames.

LL.frameDraw = LL.frameDraw || [];  // slider input -> frame drawn, ms (bench)

class FramePlayer {
  constructor(root, component) {
    this.root = root; this.component = component; this.frame = 0; this.timer = null;
    root.classList.add("lf-root");
    const bar = el("div", "lf-bar", root);
    this.playBtn = el("button", "ll-btn lf-play", bar, "▶ Play");
    this.playBtn.type = "button";
    this.playBtn.addEventListener("click", () => this.toggle());
    this.slider = el("input", "lf-slider", bar);
    this.slider.type = "range"; this.slider.min = "0"; this.slider.max = "0"; this.slider.step = "1";
    this.slider.setAttribute("aria-label", "Epoch");
    this.slider.addEventListener("input", (e) => { this.stop(); this.show(+this.slider.value, e); });
    this.label = el("span", "lf-label", bar, "Loading the recording…");
    this.mapHost = el("div", "", root);
    this.map = new LatentMap(this.mapHost, component);
    const init = this.map.tryInit.bind(this.map);
    this.map.tryInit = () => { init(); if (this.frames && this.map.meta) this.show(this.frame); };
  }

  update(data) {
    this.data = data;
    this.root.classList.toggle("lf-presenter", !!data.presenter);
    this.map.component = this.component;
    this.map.update({key: data.map_key, map: data.map, decoder: data.decoder, pins: false,
                     height: data.height, presenter: data.presenter, side_title: data.side_title});
    this.ready();
  }

  ready() {  // the frames blob may arrive after this element
    const b = LL.blobs.get(this.data.frames);
    if (!b) { LL.bus.addEventListener("blob", () => this.ready(), {once: true}); return; }
    if (this.frames === b) return;
    this.frames = b;
    const F = b.header.epochs.length;
    this.slider.max = String(F - 1);
    this.frame = Math.min(Math.max(this.data.start ?? F - 1, 0), F - 1);
    this.slider.value = String(this.frame);
    if (this.map.meta) this.show(this.frame);
  }

  show(f, ev) {
    const b = this.frames, m = this.map;
    if (!b || !m.meta) return;
    const h = b.header, n = h.n;
    this.frame = f;
    m.xy = b.arrays.xy.subarray(f * n * 2, (f + 1) * n * 2);
    m.labels = b.arrays.labels; m.n = n;
    m.drawBase(); m.drawOver();
    const e = h.epochs[f], loss = h.test_total[f];
    this.label.textContent = (e === 0 ? "epoch 0 (untrained)" : `epoch ${e} of ${h.epochs[h.epochs.length - 1]}`) +
      (loss === null ? "" : ` · test loss ${loss.toFixed(2)} ${h.unit}`) +
      (e === h.best_epoch ? " · the saved weights" : "");
    this.slider.value = String(f);
    this.root.dataset.frame = String(f);
    if (ev) LL.frameDraw.length < 5000 && LL.frameDraw.push(performance.now() - ev.timeStamp);
  }

  toggle() { this.timer ? this.stop() : this.play(); }

  play() {
    const F = this.frames ? this.frames.header.epochs.length : 0;
    if (!F) return;
    if (this.frame >= F - 1) this.show(0);
    this.playBtn.textContent = "❚❚ Pause";
    this.timer = setInterval(() => {
      if (this.frame >= F - 1) { this.stop(); return; }
      this.show(this.frame + 1);
    }, this.data.ms_per_frame || 120);
  }

  stop() { clearInterval(this.timer); this.timer = null; this.playBtn.textContent = "▶ Play"; }
}

LL.mountFrames = function (component) {
  const {parentElement, data} = component;
  let root = parentElement.querySelector(".lf-root-host");
  if (!root) {
    const style = document.createElement("style");
    style.textContent = window.__latentlabCss || "";
    parentElement.appendChild(style);
    root = el("div", "lf-root-host", parentElement);
    root.__player = new FramePlayer(root, component);
  }
  root.__player.component = component;
  root.__player.update(data);
  LL.players = LL.players || new Map();
  LL.players.set(data.key, root.__player);
};
for (const c of (window.__latentlabWaitingFrames || []).splice(0)) LL.mountFrames(c);
