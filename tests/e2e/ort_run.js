// ort_run.js - runs an ONNX model in ONNX Runtime (onnxruntime-node) on the
// images of an IDX file (pixels / 255, NCHW; or [N, H, W] with `rows`, each
// image a sequence of its rows) and writes the outputs as raw little-endian
// float32; or on the int64 ids [N, ...] of a .npy file (an embedding's input).
//
// Usage: node ort_run.js ONNXRUNTIME_NODE_DIR MODEL.onnx IMAGES_IDX OUT.f32
//                        [rows]
//        node ort_run.js ONNXRUNTIME_NODE_DIR MODEL.onnx IDS.npy OUT.f32
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require(require('path').resolve(process.argv[2]));

async function main() {
  const [model, idx, out, layout] = process.argv.slice(3);
  let data = fs.readFileSync(idx);
  if (idx.endsWith('.npy')) return runIds(model, data, out);
  if (idx.endsWith('.gz')) data = zlib.gunzipSync(data);
  const n = data.readUInt32BE(4), h = data.readUInt32BE(8),
        w = data.readUInt32BE(12);
  const session = await ort.InferenceSession.create(model);
  const batch = 500, results = [];
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const x = new Float32Array(count * h * w);
    for (let i = 0; i < x.length; ++i)
      x[i] = data[16 + start * h * w + i] / 255;
    const feeds = {};
    const dims = layout === 'rows' ? [count, h, w] : [count, 1, h, w];
    feeds[session.inputNames[0]] = new ort.Tensor('float32', x, dims);
    const r = await session.run(feeds);
    const y = r[session.outputNames[0]].data;
    results.push(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  }
  fs.writeFileSync(out, Buffer.concat(results));
}

// A little-endian int64 .npy array [N, ...] (format 1.0), fed as it is.
async function runIds(model, data, out) {
  const headerLength = data.readUInt16LE(8);
  const header = data.toString('latin1', 10, 10 + headerLength);
  if (!header.includes("'<i8'")) throw new Error('expects int64 ids');
  const shape = header.match(/'shape': \(([\d, ]+)\)/)[1];
  const dims = shape.split(',').filter((d) => d.trim()).map(Number);
  const bytes = data.subarray(10 + headerLength);
  const ids = new BigInt64Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < ids.length; ++i) ids[i] = bytes.readBigInt64LE(8 * i);
  const session = await ort.InferenceSession.create(model);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('int64', ids, dims);
  const y = (await session.run(feeds))[session.outputNames[0]].data;
  fs.writeFileSync(out, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

main().catch((e) => {
  console.error('ort_run.js: ' + String(e));
  process.exit(1);
});
