// Carrier: receives one LLB1 blob (map or decoder weights) as bytes and keeps it, parsed, in
// window.__latentlab.blobs for every latent map on the page. Loaded after decoder.js and
// latentmap.js (which define LL and llParseBlob in this module).
export default function (component) {
  const bytes = component.data;
  if (!bytes || !bytes.length) return;
  const t0 = performance.now();
  const blob = llParseBlob(bytes);
  if (!LL.blobs.has(blob.header.id)) {
    blob.arrived = t0;  // for bench/pointer_latency.py: data arrived -> first draw
    LL.blobs.set(blob.header.id, blob);
    LL.bus.dispatchEvent(new CustomEvent("blob", {detail: blob.header.id}));
  }
}
