// run.js runs one ONNX model through ONNX Runtime (onnxruntime-node, CPU) for
// bench/cmd/vsort and prints one JSON line:
//   {"version":"1.30.0","times_ms":[...],"outputs":[{"name","type","dims","file"}]}
// or {"error":"..."} on failure.
//
// Usage: node run.js MANIFEST.json, where the manifest (written by the Go side)
// is {"model": path, "threads": N, "warmup": W, "runs": R,
//     "inputs": [{"name","type","dims","file"}], "out_dir": dir}.
// Each input file holds the tensor's raw little-endian bytes. The session uses
// intraOpNumThreads = N, interOpNumThreads = 1, sequential execution and
// graphOptimizationLevel 'all'. The first output of the last run is written
// to out_dir as raw bytes so the caller can compare it with its own.
'use strict';

const fs = require('fs');
const path = require('path');

const typed = {
  float32: Float32Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

function loadInput(ort, inp) {
  const T = typed[inp.type];
  if (!T) throw new Error(`run.js: unsupported input type ${inp.type}`);
  const buf = fs.readFileSync(inp.file);
  // Copy into an aligned buffer: Buffer slices may not be aligned for T.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  const data = new T(ab);
  const n = inp.dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new Error(`run.js: input ${inp.name}: ${data.length} elements, dims ${inp.dims} need ${n}`);
  }
  return new ort.Tensor(inp.type, data, inp.dims);
}

async function main() {
  if (process.argv.length < 3) throw new Error('usage: node run.js MANIFEST.json');
  const man = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(man.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: man.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const inp of man.inputs) feeds[inp.name] = loadInput(ort, inp);

  let out;
  for (let i = 0; i < man.warmup; i++) out = await session.run(feeds);
  const times = [];
  for (let i = 0; i < man.runs; i++) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const outputs = [];
  if (out && man.out_dir) {
    const name = session.outputNames[0];
    const t = out[name];
    const file = path.join(man.out_dir, 'output_0.bin');
    fs.writeFileSync(file, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    outputs.push({ name, type: t.type, dims: Array.from(t.dims, Number), file });
  }
  await session.release();
  return { version: ort.env.versions.common, times_ms: times, outputs };
}

main().then(
  (r) => process.stdout.write(JSON.stringify(r) + '\n'),
  (e) => {
    process.stdout.write(JSON.stringify({ error: 'ort: ' + String(e && e.message ? e.message : e) }) + '\n');
    process.exitCode = 1;
  },
);
