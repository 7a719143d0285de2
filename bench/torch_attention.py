"""PyTorch side of bench/attention-speed.ts: the attention autoencoder ('lstm-attn-ae') with bptt's weights, one thread.

    python3 bench/torch_attention.py <data.json> <trainRuns> <warmup>

data.json (written by bench/attention-speed.ts): B, T, D, H, A, x [B*T*D], the model's weights in bptt's order and
Keras layout (encoder LSTM kernel, recurrent_kernel, bias; decoder kernel, recurrent_kernel, bias, attention Ws, Wh, ba,
v; dense kernel, bias) and the loss bptt computes for them. Model: nn.LSTM encoder (every state) -> decoder from
s_0 = h_T, c_0 = 0: additive attention e_j = v . tanh(s Ws + h_j Wh + ba), alpha = softmax, ctx = sum_j alpha_j h_j,
s, c = nn.LSTMCell(ctx, (s, c)) -> nn.Linear on every s; MSE (mean); Adam lr 1e-3, eps 1e-7. The LSTM second biases
(bias_hh) are zero and frozen, so the parameters Adam updates are bptt's. Prints RESULT {json}.
"""
import json
import resource
import sys
import time

import torch
from torch import nn


class AttentionAE(nn.Module):
    def __init__(self, T, D, H, A):
        super().__init__()
        self.T = T
        self.enc = nn.LSTM(D, H, batch_first=True)
        self.dec = nn.LSTMCell(H, H)
        self.Ws = nn.Parameter(torch.zeros(H, A))
        self.Wh = nn.Parameter(torch.zeros(H, A))
        self.ba = nn.Parameter(torch.zeros(A))
        self.v = nn.Parameter(torch.zeros(A))
        self.out = nn.Linear(H, D)

    def forward(self, x):
        hs, _ = self.enc(x)                      # [B, T, H]
        keys = hs @ self.Wh + self.ba            # once per sequence
        s = hs[:, -1]
        c = torch.zeros_like(s)
        outs = []
        for _ in range(self.T):
            e = torch.tanh((s @ self.Ws).unsqueeze(1) + keys) @ self.v
            alpha = torch.softmax(e, dim=1)
            ctx = torch.einsum('bj,bjh->bh', alpha, hs)
            s, c = self.dec(ctx, (s, c))
            outs.append(s)
        return self.out(torch.stack(outs, dim=1))


def timed(fn, warmup, runs):
    last = None
    w0 = time.perf_counter()
    i = 0
    while i < 30 and (i < warmup or time.perf_counter() - w0 < 1.5):
        last = fn()
        i += 1
    wall = []
    for _ in range(runs):
        t0 = time.perf_counter()
        last = fn()
        wall.append((time.perf_counter() - t0) * 1000.0)
    s = sorted(wall)
    return {'runs': runs, 'median': s[runs // 2] if runs % 2 else (s[runs // 2 - 1] + s[runs // 2]) / 2,
            'min': s[0], 'max': s[-1], 'samples': wall}, last


def main():
    path, train_runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(1)
    with open(path) as f:
        d = json.load(f)
    B, T, D, H, A = d['B'], d['T'], d['D'], d['H'], d['A']
    w = [torch.tensor(v['data'], dtype=torch.float32).reshape(v['shape']) for v in d['weights']]
    x = torch.tensor(d['x'], dtype=torch.float32).reshape(B, T, D)
    m = AttentionAE(T, D, H, A)
    with torch.no_grad():
        m.enc.weight_ih_l0.copy_(w[0].t()); m.enc.weight_hh_l0.copy_(w[1].t())
        m.enc.bias_ih_l0.copy_(w[2]); m.enc.bias_hh_l0.zero_()
        m.dec.weight_ih.copy_(w[3].t()); m.dec.weight_hh.copy_(w[4].t())
        m.dec.bias_ih.copy_(w[5]); m.dec.bias_hh.zero_()
        m.Ws.copy_(w[6]); m.Wh.copy_(w[7]); m.ba.copy_(w[8]); m.v.copy_(w[9])
        m.out.weight.copy_(w[10].t()); m.out.bias.copy_(w[11])
    m.enc.bias_hh_l0.requires_grad_(False)
    m.dec.bias_hh.requires_grad_(False)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    with torch.no_grad():
        loss0 = float(nn.functional.mse_loss(m(x), x))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(m(x), x)
        loss.backward()
        opt.step()
        return float(loss)

    train, last = timed(step, warmup, train_runs)
    rel = abs(loss0 - d['loss']) / max(abs(d['loss']), 1e-12)
    res = {'framework': 'pytorch', 'detail': f'PyTorch {torch.__version__}, 1 thread', 'loss': loss0,
           'lossRelDiff': rel, 'lossOk': rel <= 1e-4, 'train': train, 'finalLoss': last,
           'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    sys.stdout.write('RESULT ' + json.dumps(res) + '\n')


if __name__ == '__main__':
    main()
