#!/usr/bin/env python3
"""Builds the attention CTR fixture (AutoInt-like) with PyTorch and exports it to ONNX (opset 14).

Embeddings for 26 categorical fields plus one token for the 13 dense features, three layers of
multi-head self-attention over the 27 field tokens (activation x activation MatMuls: scores and
weighted values, Softmax, residual Add + Relu), then an MLP and a sigmoid. Trained for a few epochs
on the first half of the ctr-mlp-torch fixture's labelled rows (the second half stays held out).

    /usr/bin/python3 optimizer/scripts/attention_ctr.py \
        --rows ../shared/fixtures/ctr-mlp-torch/rows.jsonl \
        --out optimizer/src/test/resources/attention-ctr/model.onnx

Needs Debian's python3-torch (1.13) only at build time; the exported model is committed.
"""
import argparse
import json
import math

import torch
from torch import nn

FIELDS = 26
DENSE = 13
VOCAB = 1000
EMB = 16
D_MODEL = 32
HEADS = 2
LAYERS = 3
HIDDEN = (320, 128)


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.k = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.v = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.res = nn.Linear(D_MODEL, D_MODEL, bias=False)

    def forward(self, x):  # x: [B, T, D]
        b, t, _ = x.shape
        dk = D_MODEL // HEADS

        def heads(y):
            return y.reshape(b, t, HEADS, dk).transpose(1, 2)  # [B, H, T, dk]

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(dk))
        att = torch.softmax(scores, dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(b, t, D_MODEL)
        return torch.relu(out + self.res(x))


class AttentionCtr(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.ModuleList([nn.Embedding(VOCAB, EMB) for _ in range(FIELDS)])
        self.dproj = nn.Linear(DENSE, EMB)
        self.proj = nn.Linear(EMB, D_MODEL, bias=False)
        self.att = nn.ModuleList([SelfAttention() for _ in range(LAYERS)])
        layers, width = [], (FIELDS + 1) * D_MODEL
        for h in HIDDEN:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, dense, sparse):
        tokens = [self.dproj(dense).unsqueeze(1)]
        tokens += [self.emb[j](sparse[:, j]).unsqueeze(1) for j in range(FIELDS)]
        x = self.proj(torch.cat(tokens, dim=1))  # [B, 27, D]
        for a in self.att:
            x = a(x)
        return torch.sigmoid(self.mlp(torch.flatten(x, 1)))


def read_rows(path):
    dense, sparse, labels = [], [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            dense.append(r["inputs"]["dense"])
            sparse.append(r["inputs"]["sparse"])
            labels.append(float(r["label"]))
    return torch.tensor(dense), torch.tensor(sparse, dtype=torch.int64), torch.tensor(labels)


def auc(p, y):
    order = torch.argsort(p)
    ranks = torch.empty_like(p)
    ranks[order] = torch.arange(1, len(p) + 1, dtype=p.dtype)
    pos = y.sum()
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(p) - pos)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    dense, sparse, labels = read_rows(a.rows)
    half = len(labels) // 2
    model = AttentionCtr()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-6)
    loss_fn = nn.BCELoss()
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(half)
        for i in range(0, half, 256):
            idx = perm[i : i + 256]
            opt.zero_grad()
            loss = loss_fn(model(dense[idx], sparse[idx]).squeeze(1), labels[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            p = model(dense[half:], sparse[half:]).squeeze(1)
        print(f"epoch {epoch + 1}: held-out AUC {auc(p, labels[half:]):.4f}", flush=True)
    model.eval()
    torch.onnx.export(
        model,
        (dense[:2], sparse[:2]),
        a.out,
        input_names=["dense", "sparse"],
        output_names=["prob"],
        dynamic_axes={"dense": {0: "batch"}, "sparse": {0: "batch"}, "prob": {0: "batch"}},
        opset_version=14,
    )
    print(f"params {params}, exported {a.out}")


if __name__ == "__main__":
    main()
