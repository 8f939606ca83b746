#!/usr/bin/env python3
"""Writes the graph ONNX Runtime's static quantizer (quantize_static, QuantFormat.QDQ, per_channel,
MinMax) produces for the ctr-mlp-torch fixture, so that `distill bench --compare-file` can run it
side by side with ours where ORT's Python package is not installed:

- each of the 26 tables int8 per tensor (DequantizeLinear -> Gather), the lookup and its Unsqueeze
  quantized with the table's range (ORT's QDQ Gather/Unsqueeze share their input's parameters);
- the Concats quantized on inputs and output (ORT fuses QLinearConcat), Flatten passed through;
- every Gemm with its activation Q/DQ, per-channel int8 weights and int32 bias, Relu folded into the
  output range; the logit and the prediction Q/DQ around the Sigmoid (QLinearSigmoid).

Ranges are MinMax over the first 2000 rows (the calibration rows our quantizer uses).

    /usr/bin/python3 optimizer/scripts/ort_qdq_like.py u8|s8 OUT.onnx [MODEL.onnx] [ROWS.jsonl]

u8: QUInt8 activations; s8: QInt8 activations (quantize_static's default). Needs onnx and numpy.
"""
import onnx, numpy as np, json, sys
from onnx import numpy_helper as nh, helper as h, TensorProto as T
act = sys.argv[1]; out = sys.argv[2]
fx = '../shared/fixtures/ctr-mlp-torch/'
m = onnx.load(sys.argv[3] if len(sys.argv) > 3 else fx + 'model.onnx')
W = {t.name: nh.to_array(t) for t in m.graph.initializer}
rows = [json.loads(l) for l, _ in zip(open(sys.argv[4] if len(sys.argv) > 4 else fx + 'rows.jsonl'), range(2000))]
dense = np.array([r['inputs']['dense'] for r in rows], np.float32); sparse = np.array([r['inputs']['sparse'] for r in rows])
# numpy forward for ranges
d = dense @ W['dproj.weight'].T + W['dproj.bias']
embs = [W[f'emb.{k}.weight'][sparse[:, k]] for k in range(26)]
x = np.concatenate([d[:, None, :]] + [e[:, None, :] for e in embs], 1).reshape(len(rows), -1)
acts = {'dense': dense, '/dproj/Gemm_output_0': d, '/Flatten_output_0': x}
h0 = np.maximum(x @ W['mlp.0.weight'].T + W['mlp.0.bias'], 0); acts['/mlp/mlp.1/Relu_output_0'] = h0
h1 = np.maximum(h0 @ W['mlp.2.weight'].T + W['mlp.2.bias'], 0); acts['/mlp/mlp.3/Relu_output_0'] = h1
h2 = np.maximum(h1 @ W['mlp.4.weight'].T + W['mlp.4.bias'], 0); acts['/mlp/mlp.5/Relu_output_0'] = h2
lg = h2 @ W['mlp.6.weight'].T + W['mlp.6.bias']; acts['/mlp/mlp.6/Gemm_output_0'] = lg; acts['prob'] = 1 / (1 + np.exp(-lg))
qt, qmin, qmax, npt = (T.UINT8, 0, 255, np.uint8) if act == 'u8' else (T.INT8, -128, 127, np.int8)
def params(lo, hi):
    lo = min(lo, 0.0); hi = max(hi, 0.0); s = (hi - lo) / (qmax - qmin) or 1.0
    return np.float32(s), int(np.clip(round(qmin - lo / s), qmin, qmax))
inits = []; nodes = []
def qdq(tensor, s, z, name=None):
    n = name or tensor
    inits.append(nh.from_array(np.array(s, np.float32), n + '_s')); inits.append(nh.from_array(np.array(z, npt), n + '_z'))
    nodes.append(h.make_node('QuantizeLinear', [tensor, n + '_s', n + '_z'], [n + '_q']))
    nodes.append(h.make_node('DequantizeLinear', [n + '_q', n + '_s', n + '_z'], [n + '_dq']))
    return n + '_dq'
g = m.graph; consts = {n.output[0]: n for n in g.node if n.op_type == 'Constant'}
rename = {}
def R(x): return rename.get(x, x)
for n in g.node:
    if n.op_type == 'Constant': nodes.append(n); continue
    ins = [R(i) for i in n.input]
    if n.op_type == 'Gather' and n.input[0] in W:  # table: int8 per tensor symmetric weight
        t = W[n.input[0]]; s = np.float32(np.abs(t).max() / 127)
        inits += [nh.from_array(np.round(t / s).astype(np.int8), n.input[0] + '_q'), nh.from_array(np.array(s, np.float32), n.input[0] + '_s'), nh.from_array(np.array(0, np.int8), n.input[0] + '_z')]
        nodes.append(h.make_node('DequantizeLinear', [n.input[0] + '_q', n.input[0] + '_s', n.input[0] + '_z'], [n.input[0] + '_dq']))
        nodes.append(h.make_node('Gather', [n.input[0] + '_dq', ins[1]], [n.output[0] + '_f'], axis=0))
        # output shares the table's params (ORT: Gather output quantized like its input); activation type
        sa, za = params(float(t.min()), float(t.max()))
        rename[n.output[0]] = qdq(n.output[0] + '_f', sa, za, n.output[0]); continue
    if n.op_type == 'Unsqueeze' and n.output[0] != '/Unsqueeze_26_output_0':
        nodes.append(h.make_node('Unsqueeze', ins, [n.output[0] + '_f']))
        src = [x for x in g.node if x.output[0] == n.input[0]][0]
        t = W[src.input[0]]; sa, za = params(float(t.min()), float(t.max()))
        rename[n.output[0]] = qdq(n.output[0] + '_f', sa, za, n.output[0]); continue
    if n.op_type == 'Gemm':
        a = ins[0]
        if n.input[0] in acts:
            sa, za = params(float(acts[n.input[0]].min()), float(acts[n.input[0]].max())); a = qdq(ins[0], sa, za, n.input[0] + '_in')
        else:
            sa = None
        w = W[n.input[1]]; sw = (np.abs(w).max(1) / 127).astype(np.float32); sw[sw == 0] = 1
        inits += [nh.from_array(np.round(w / sw[:, None]).astype(np.int8), n.input[1] + '_q'), nh.from_array(sw, n.input[1] + '_s'), nh.from_array(np.zeros(len(sw), np.int8), n.input[1] + '_z')]
        nodes.append(h.make_node('DequantizeLinear', [n.input[1] + '_q', n.input[1] + '_s', n.input[1] + '_z'], [n.input[1] + '_dq'], axis=0))
        b = W[n.input[2]]; sb = (sa * sw).astype(np.float32)
        inits += [nh.from_array(np.round(b / sb).astype(np.int32), n.input[2] + '_q'), nh.from_array(sb, n.input[2] + '_s'), nh.from_array(np.zeros(len(sb), np.int32), n.input[2] + '_z')]
        nodes.append(h.make_node('DequantizeLinear', [n.input[2] + '_q', n.input[2] + '_s', n.input[2] + '_z'], [n.input[2] + '_dq'], axis=0))
        nodes.append(h.make_node('Gemm', [a, n.input[1] + '_dq', n.input[2] + '_dq'], [n.output[0]], transB=1)); continue
    if n.op_type == 'Relu':
        nodes.append(h.make_node('Relu', ins, [n.output[0] + '_f'])); sa, za = params(0, float(acts[n.output[0]].max()))
        rename[n.output[0]] = qdq(n.output[0] + '_f', sa, za, n.output[0]); continue
    if n.op_type == 'Concat' and n.output[0] == '/Concat_1_output_0':
        ui = ins[0]
        # dproj output Q/DQ (Unsqueeze_26 input)
        nodes.append(h.make_node('Concat', ins, [n.output[0] + '_f'], axis=1)); sa, za = params(float(x.min()), float(x.max()))
        rename[n.output[0]] = qdq(n.output[0] + '_f', sa, za, n.output[0]); continue
    if n.op_type == 'Concat':
        nodes.append(h.make_node('Concat', ins, [n.output[0] + '_f'], axis=1)); e = np.concatenate([W[f'emb.{k}.weight'] for k in range(26)])
        sa, za = params(float(e.min()), float(e.max())); rename[n.output[0]] = qdq(n.output[0] + '_f', sa, za, n.output[0]); continue
    if n.op_type == 'Sigmoid':
        sa, za = params(float(lg.min()), float(lg.max())); i = qdq(ins[0], sa, za, 'logit')
        nodes.append(h.make_node('Sigmoid', [i], ['prob_f'])); sp, zp = params(0, 1)
        q = qdq('prob_f', sp, zp, 'probq'); nodes.append(h.make_node('Identity', [q], ['prob'])); continue
    if n.output[0] == '/dproj/Gemm_output_0': pass
    nodes.append(h.make_node(n.op_type, ins, list(n.output), **{a.name: h.get_attribute_value(a) for a in n.attribute}))
# dproj output Q/DQ before its Unsqueeze
for nd in nodes:
    if nd.op_type == 'Unsqueeze' and nd.output[0] == '/Unsqueeze_26_output_0':
        sa, za = params(float(d.min()), float(d.max()))
        idx = nodes.index(nd); before = len(nodes); dq = qdq('/dproj/Gemm_output_0', sa, za, 'dproj_out')
        new = nodes[before:]; del nodes[before:]; nodes[idx:idx] = new; nd.input[0] = dq; break
gg = h.make_graph(nodes, 'ortlike', list(g.input), list(g.output), inits)
mm = h.make_model(gg, opset_imports=[h.make_opsetid('', 14)]); mm.ir_version = m.ir_version
onnx.checker.check_model(mm); onnx.save(mm, out); print('wrote', out, len(nodes), 'nodes')
