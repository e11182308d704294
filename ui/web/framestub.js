// The training-animation element's own code: hand the component to the library (ui/web/frames.js),
// which a carrier brought once per session; until it arrives, wait (ui/web/stub.js asks again).
export default function (component) {
  const LL = window.__latentlab;
  if (LL && LL.mountFrames) { LL.mountFrames(component); return; }
  (window.__latentlabWaitingFrames = window.__latentlabWaitingFrames || []).push(component);
  setTimeout(() => {
    if (!(window.__latentlab && window.__latentlab.mountFrames)) component.setTriggerValue("need", ["lib"]);
  }, 2500);
}
