// In-browser decoder: runs the op list that aecore.export.decoder_program writes, on one code z
// at a time, in float64 arithmetic over float32 weights (matches PyTorch to ~1e-6 per pixel).
// Plain functions (no import/export) so the component and the tests can both load this file.

// Parse an "LLB1" blob: magic, uint32 LE header length, JSON header, pad to 4, then arrays.
// Returns {header, arrays: {name: TypedArray}}; each array is a view into one copied buffer.
function llParseBlob(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 8 || String.fromCharCode(u8[0], u8[1], u8[2], u8[3]) !== "LLB1") {
    throw new Error("not a Latent Lab blob");
  }
  const buf = u8.slice().buffer;  // a copy starting at offset 0 keeps typed views aligned
  const n = new DataView(buf).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const base = (8 + n + 3) & ~3;
  const kinds = {f32: Float32Array, i32: Int32Array, u8: Uint8Array};
  const arrays = {};
  for (const [name, [dtype, count, offset]] of Object.entries(header.arrays || {})) {
    arrays[name] = new kinds[dtype](buf, base + offset, count);
  }
  return {header, arrays};
}

// Build a decoder from a parsed "decoder" blob: {header: {ops, latent_dim, output_shape},
// arrays: {weights}}. decode(z) -> Float32Array of C*H*W values in [0, 1], CHW order (or the
// D values of a tabular decoder, output_shape [D], unbounded: aecore.export writes no sigmoid).
function llMakeDecoder(blob) {
  const {ops, latent_dim: zdim, output_shape: shape} = blob.header;
  const W = blob.arrays.weights;
  // conv layers run channels-last (HWC) so the innermost loop walks contiguous memory;
  // their weights are re-laid (C_in, C_out, k, k) -> (C_in, k, k, C_out) once, here
  const convW = new Map();
  let maxLen = zdim;
  for (const op of ops) {
    if (op.op === "linear") maxLen = Math.max(maxLen, op.out);
    if (op.op === "conv_transpose2d") {
      const {cin, cout, k} = op, t = new Float64Array(cin * k * k * cout);
      for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++)
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++)
          t[((ci * k + ky) * k + kx) * cout + co] = W[op.w + ((ci * cout + co) * k + ky) * k + kx];
      convW.set(op, t);
      maxLen = Math.max(maxLen, op.cout * op.hout * op.wout);
    }
    if (op.op === "conv2d") {  // an encoder's: (C_out, C_in, k, k) -> (k, k, C_in, C_out)
      const {cin, cout, k} = op, t = new Float64Array(cin * k * k * cout);
      for (let co = 0; co < cout; co++) for (let ci = 0; ci < cin; ci++)
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++)
          t[((ky * k + kx) * cin + ci) * cout + co] = W[op.w + ((co * cin + ci) * k + ky) * k + kx];
      convW.set(op, t);
      maxLen = Math.max(maxLen, op.cout * op.hout * op.wout);
    }
  }
  let a = new Float64Array(maxLen), b = new Float64Array(maxLen);
  const out = new Float32Array(shape.reduce((p, v) => p * v, 1));

  function decode(z) {
    let len = zdim, hwc = null;  // hwc: [C, H, W] while activations are channels-last
    for (let i = 0; i < zdim; i++) a[i] = z[i];
    for (const op of ops) {
      switch (op.op) {
        case "linear": {
          const {in: nin, out: nout, w, b: bo} = op;
          for (let j = 0; j < nout; j++) {
            let s = W[bo + j];
            const row = w + j * nin;
            for (let i = 0; i < nin; i++) s += W[row + i] * a[i];
            b[j] = s;
          }
          [a, b] = [b, a]; len = nout; break;
        }
        case "relu": for (let i = 0; i < len; i++) if (a[i] < 0) a[i] = 0; break;
        case "leaky_relu": for (let i = 0; i < len; i++) if (a[i] < 0) a[i] *= op.slope; break;
        case "tanh": for (let i = 0; i < len; i++) a[i] = Math.tanh(a[i]); break;
        case "sigmoid": for (let i = 0; i < len; i++) a[i] = 1 / (1 + Math.exp(-a[i])); break;
        case "gelu": for (let i = 0; i < len; i++) a[i] = 0.5 * a[i] * (1 + llErf(a[i] / Math.SQRT2)); break;
        case "layernorm": {  // over the whole vector, biased variance (as torch.nn.LayerNorm)
          let m = 0, v = 0;
          for (let i = 0; i < len; i++) m += a[i];
          m /= len;
          for (let i = 0; i < len; i++) v += (a[i] - m) * (a[i] - m);
          const r = 1 / Math.sqrt(v / len + op.eps);
          for (let i = 0; i < len; i++) a[i] = (a[i] - m) * r * W[op.w + i] + W[op.b + i];
          break;
        }
        case "unflatten": {  // CHW (as PyTorch lays it out) -> HWC
          if (op.shape.length !== 3) break;  // a feature vector [D]: nothing to re-lay
          const [c, h, w] = op.shape;
          for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) b[p * c + ch] = a[ch * h * w + p];
          [a, b] = [b, a]; hwc = [c, h, w]; break;
        }
        case "conv_transpose2d": {
          const {cin, cout, k, stride: s, pad: p, hin, win, hout, wout} = op, t = convW.get(op);
          const n = cout * hout * wout;
          for (let oy = 0; oy < hout; oy++) for (let ox = 0; ox < wout; ox++)
            for (let co = 0; co < cout; co++) b[(oy * wout + ox) * cout + co] = W[op.b + co];
          // output (iy*s - p + ky, ix*s - p + kx) += in[iy, ix, ci] * w[ci, ky, kx, :]
          for (let iy = 0; iy < hin; iy++) for (let ix = 0; ix < win; ix++) {
            const ib = (iy * win + ix) * cin;
            for (let ky = 0; ky < k; ky++) {
              const oy = iy * s - p + ky;
              if (oy < 0 || oy >= hout) continue;
              for (let kx = 0; kx < k; kx++) {
                const ox = ix * s - p + kx;
                if (ox < 0 || ox >= wout) continue;
                const ob = (oy * wout + ox) * cout;
                for (let ci = 0; ci < cin; ci++) {
                  const v = a[ib + ci];
                  if (v === 0) continue;  // ReLU zeros: common, and free to skip
                  const tb = ((ci * k + ky) * k + kx) * cout;
                  for (let co = 0; co < cout; co++) b[ob + co] += v * t[tb + co];
                }
              }
            }
          }
          [a, b] = [b, a]; len = n; hwc = [cout, hout, wout]; break;
        }
        case "conv2d": {  // out[oy, ox, :] = b + sum in[oy*s - p + ky, ox*s - p + kx, ci] * w[ky, kx, ci, :]
          const {cin, cout, k, stride: s, pad: p, hin, win, hout, wout} = op, t = convW.get(op);
          for (let oy = 0; oy < hout; oy++) for (let ox = 0; ox < wout; ox++) {
            const ob = (oy * wout + ox) * cout;
            for (let co = 0; co < cout; co++) b[ob + co] = W[op.b + co];
            for (let ky = 0; ky < k; ky++) {
              const iy = oy * s - p + ky;
              if (iy < 0 || iy >= hin) continue;
              for (let kx = 0; kx < k; kx++) {
                const ix = ox * s - p + kx;
                if (ix < 0 || ix >= win) continue;
                const ib = (iy * win + ix) * cin;
                for (let ci = 0; ci < cin; ci++) {
                  const v = a[ib + ci];
                  if (v === 0) continue;
                  const tb = ((ky * k + kx) * cin + ci) * cout;
                  for (let co = 0; co < cout; co++) b[ob + co] += v * t[tb + co];
                }
              }
            }
          }
          [a, b] = [b, a]; len = cout * hout * wout; hwc = [cout, hout, wout]; break;
        }
        case "flatten": {  // HWC -> CHW vector, as torch's Flatten lays a feature map out
          if (!hwc) break;
          const [c, h, w] = hwc;
          for (let ch = 0; ch < c; ch++) for (let q = 0; q < h * w; q++) b[ch * h * w + q] = a[q * c + ch];
          [a, b] = [b, a]; len = c * h * w; hwc = null; break;
        }
        default: throw new Error("unknown decoder op " + op.op);
      }
    }
    if (hwc) {  // back to CHW
      const [c, h, w] = hwc;
      for (let ch = 0; ch < c; ch++) for (let q = 0; q < h * w; q++) out[ch * h * w + q] = a[q * c + ch];
    } else {
      for (let i = 0; i < out.length; i++) out[i] = a[i];
    }
    return out;
  }
  return {decode, latentDim: zdim, shape};
}

// erf(x), Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7): JavaScript's Math has no erf (GELU).
function llErf(x) {
  const s = x < 0 ? -1 : 1, ax = Math.abs(x), t = 1 / (1 + 0.3275911 * ax);
  const y = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    + 0.254829592) * t;
  return s * (1 - y * Math.exp(-ax * ax));
}
