// The drawing pad element's own code: hand the component to the library (ui/web/drawpad.js),
// which a carrier brought once per session; until it arrives, wait (ui/web/stub.js asks again).
export default function (component) {
  const LL = window.__latentlab;
  if (LL && LL.mountDraw) { LL.mountDraw(component); return; }
  (window.__latentlabWaitingDraw = window.__latentlabWaitingDraw || []).push(component);
  setTimeout(() => {
    if (!(window.__latentlab && window.__latentlab.mountDraw)) component.setTriggerValue("need", ["lib"]);
  }, 2500);
}
