// The class watcher (ui/classwatch.py): fetch the class's state file (services/classlive.py,
// ~60 bytes, served as a static file: no script run) every data.period_ms, with jitter, and
// send "changed" once per new state, which reruns the one fragment the watcher sits in.
// data: {url, state, period_ms}; url null (the server cannot write the files): send "tick"
// every period instead, a fragment rerun per poll. Draws nothing.
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const w = parentElement.__classwatch || (parentElement.__classwatch = {});
  w.data = data;
  if (w.timer) clearTimeout(w.timer);
  const next = (k) => (w.timer = setTimeout(tick, w.data.period_ms * k));
  const tick = async () => {
    if (!w.data.url) { setTriggerValue("changed", "tick"); next(1); return; }
    try {
      const r = await fetch(w.data.url, { cache: "no-store" });
      if (r.ok) {
        const s = (await r.text()).trim();
        if (s && s !== w.data.state && s !== w.sent) {
          w.sent = s;
          setTriggerValue("changed", s);
        }
      }
    } catch (e) { /* offline for a moment: try again at the next tick */ }
    next(0.75 + 0.5 * Math.random());
  };
  next(Math.random()); // a random phase: a class's polls do not arrive together
  return () => clearTimeout(w.timer);
}
