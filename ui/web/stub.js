// The latent map element's own code: hand the component to the library (ui/web/latentmap.js),
// which a carrier brought once per session. If it has not arrived, wait, then ask for it again.
export default function (component) {
  const LL = window.__latentlab;
  if (LL && LL.mount) { LL.mount(component); return; }
  (window.__latentlabWaiting = window.__latentlabWaiting || []).push(component);
  setTimeout(() => {
    if (!(window.__latentlab && window.__latentlab.mount)) component.setTriggerValue("need", ["lib"]);
  }, 2500);
}
