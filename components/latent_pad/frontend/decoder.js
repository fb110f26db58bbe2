"use strict";
// The VAE decoder's forward pass in the browser, in float32, from its browser export (written at training
// time by core.serving.vae.export_browser_decoder, checked against the card). FORMAT, OPS and ACTIVATIONS are
// the lists core.serving.vae's BROWSER_FORMAT, BROWSER_OPS and BROWSER_ACTIVATIONS repeat (a test checks they
// agree): the export refuses, at training time, a decoder with any other layer. Tests check this equals the
// Keras decoder.
// The server runs the decoder's ONNX export with onnxruntime instead: docs/vae.md says why not here too.

const FORMAT = "latent-pad-decoder/1";
const OPS = ["dense", "conv_same", "conv_transpose_same", "reshape"];
const ACTIVATIONS = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 0.5 * (1 + Math.tanh(0.5 * x)),  // = 1 / (1 + e^-x), without overflow
};

// A tensor is { data: Float32Array, shape: [h, w, c] } (one image, channels last) or [n] for a vector.

function dense(x, kernel, bias) {
  const [nIn, nOut] = kernel.shape, k = kernel.data;
  const y = new Float32Array(bias.data);
  for (let i = 0; i < nIn; i++) {
    const v = x.data[i];
    if (v === 0) continue;  // after a relu most inputs are zero
    const row = i * nOut;
    for (let j = 0; j < nOut; j++) y[j] += v * k[row + j];
  }
  return { data: y, shape: [nOut] };
}

function convSame(x, kernel, bias) {
  // kernel (kh, kw, in, out); stride 1, zero padding that keeps h × w
  const [h, w, cin] = x.shape, [kh, kw, , cout] = kernel.shape, k = kernel.data, xd = x.data;
  const y = new Float32Array(h * w * cout);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const o = (r * w + c) * cout;
      for (let q = 0; q < cout; q++) y[o + q] = bias.data[q];
      for (let i = 0; i < kh; i++) {
        const rr = r + i - (kh >> 1);
        if (rr < 0 || rr >= h) continue;
        for (let j = 0; j < kw; j++) {
          const cc = c + j - (kw >> 1);
          if (cc < 0 || cc >= w) continue;
          const xo = (rr * w + cc) * cin, ko = (i * kw + j) * cin * cout;
          for (let p = 0; p < cin; p++) {
            const v = xd[xo + p];
            if (v === 0) continue;
            const kp = ko + p * cout;
            for (let q = 0; q < cout; q++) y[o + q] += v * k[kp + q];
          }
        }
      }
    }
  }
  return { data: y, shape: [h, w, cout] };
}

function convTransposeSame(x, kernel, bias, stride) {
  // kernel as (kh, kw, in, out) (transposed from Keras's (kh, kw, out, in) at load): every input pixel adds
  // kernel × value at stride-spaced outputs; output h·stride × w·stride, cropped from the top-left as Keras
  // does for 'same'.
  const [h, w, cin] = x.shape, [kh, kw, , cout] = kernel.shape, k = kernel.data, xd = x.data;
  const H = h * stride, W = w * stride;
  const y = new Float32Array(H * W * cout);
  for (let r = 0; r < H * W; r++) for (let q = 0; q < cout; q++) y[r * cout + q] = bias.data[q];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const xo = (r * w + c) * cin;
      for (let i = 0; i < kh; i++) {
        const rr = r * stride + i;
        if (rr >= H) continue;
        for (let j = 0; j < kw; j++) {
          const cc = c * stride + j;
          if (cc >= W) continue;
          const o = (rr * W + cc) * cout, ko = (i * kw + j) * cin * cout;
          for (let p = 0; p < cin; p++) {
            const v = xd[xo + p];
            if (v === 0) continue;
            const kp = ko + p * cout;
            for (let q = 0; q < cout; q++) y[o + q] += v * k[kp + q];
          }
        }
      }
    }
  }
  return { data: y, shape: [H, W, cout] };
}

// (kh, kw, out, in) -> (kh, kw, in, out), so the inner loops of both convolutions read memory in order.
function swapLastAxes(t) {
  const [kh, kw, a, b] = t.shape, out = new Float32Array(t.data.length);
  for (let ij = 0; ij < kh * kw; ij++) {
    for (let p = 0; p < a; p++) for (let q = 0; q < b; q++) out[(ij * b + q) * a + p] = t.data[(ij * a + p) * b + q];
  }
  return { data: out, shape: [kh, kw, b, a] };
}

class BrowserDecoder {
  constructor(spec, buffer) {
    if (spec.format !== FORMAT) throw new Error("unknown decoder format " + spec.format);
    const floats = new Float32Array(buffer);
    this.latentDim = spec.latent_dim;
    this.layers = spec.layers.map((layer) => ({
      op: layer.op, stride: layer.stride, shape: layer.shape,
      activation: ACTIVATIONS[layer.activation],
      weights: layer.weights.map((t) => ({
        shape: t.shape, data: floats.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)),
      })),
    }));
    for (const layer of this.layers) {
      if (layer.op === "conv_transpose_same") layer.weights[0] = swapLastAxes(layer.weights[0]);
      if (!layer.activation || !OPS.includes(layer.op)) {
        throw new Error("the decoder holds a layer this page cannot run: " + layer.op);
      }
    }
  }

  // url: "<folder>/decoder?v=<version>" -> <folder>/decoder.json (layers) and <folder>/decoder.bin.gz (weights,
  // gzipped at training time: the server sends the file as it is, DecompressionStream inflates it here)
  static async load(url) {
    const [base, query] = url.split("?");
    const file = (suffix) => base + suffix + (query ? "?" + query : "");
    const [spec, weights] = await Promise.all([
      fetch(file(".json")).then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); }),
      fetch(file(".bin.gz")).then((r) => {
        if (!r.ok) throw new Error(r.status);
        return new Response(r.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
      }),
    ]);
    return new BrowserDecoder(spec, weights);
  }

  // z: [z1, z2] -> Float32Array of the output's pixels (28 × 28 probabilities, row-major).
  decode(z) {
    let x = { data: Float32Array.from(z), shape: [this.latentDim] };
    for (const layer of this.layers) {
      const [kernel, bias] = layer.weights;
      if (layer.op === "reshape") { x = { data: x.data, shape: layer.shape }; continue; }
      if (layer.op === "dense") x = dense(x, kernel, bias);
      else if (layer.op === "conv_same") x = convSame(x, kernel, bias);
      else x = convTransposeSame(x, kernel, bias, layer.stride);
      const d = x.data, f = layer.activation;
      for (let i = 0; i < d.length; i++) d[i] = f(d[i]);
    }
    return x.data;
  }
}

window.BrowserDecoder = BrowserDecoder;
