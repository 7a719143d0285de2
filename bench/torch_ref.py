"""PyTorch reference for bench/speed.ts: the same sequence autoencoder, the same weights, one thread.

    python3 bench/torch_ref.py <lstm|gru|rnn> <S|M|L|STREAM> B T D H <data.safetensors> <trainRuns> <inferRuns> <warmup>

Model: encoder nn.LSTM/GRU/RNN(D -> H) -> last hidden state -> repeated T times -> decoder (H -> H, all steps) ->
nn.Linear(H -> D) on every step; MSE (mean); Adam lr 1e-3, betas (0.9, 0.999), eps 1e-7 (TensorFlow.js's epsilon).
Weights come from the data file in Keras layout (kernel W[in, G*H], recurrent kernel U[H, G*H], bias) and are
transposed into PyTorch's (weight_ih [G*H, in], weight_hh [G*H, H], bias_ih, bias_hh = 0 and frozen, so that the
parameters Adam updates are exactly Keras's). LSTM gate order is i|f|g|o in
both. PyTorch's GRU is the reset-after variant (Keras resetAfter=true) with gates r|z|n, so the GRU row reads the
tensors tw0, tw1, ... (a bptt resetAfter=true model built by bench/speed.ts) and reorders z|r|h -> r|z|n.

Prints one line: RESULT {json} with the same fields as bench/speed-child.ts. No dependency beyond torch (the safetensors file
is parsed here by hand: 8-byte little-endian header length, JSON header, raw little-endian float32 data).
"""
import json
import resource
import sys
import time

import torch
from torch import nn


def read_safetensors(path):
    with open(path, 'rb') as f:
        buf = f.read()
    n = int.from_bytes(buf[:8], 'little')
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    base = 8 + n
    meta = header.pop('__metadata__', {})
    tensors = {}
    for name, e in header.items():
        if e['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} is {e["dtype"]}, expected F32')
        b, end = e['data_offsets']
        t = torch.frombuffer(bytearray(buf[base + b:base + end]), dtype=torch.float32)
        tensors[name] = t.reshape(e['shape']) if e['shape'] else t
    return tensors, meta


class Autoencoder(nn.Module):
    def __init__(self, cell, T, D, H):
        super().__init__()
        cls = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[cell]
        self.cell, self.T = cell, T
        self.enc = cls(D, H, batch_first=True)
        self.dec = cls(H, H, batch_first=True)
        self.out = nn.Linear(H, D)

    def forward(self, x):
        _, state = self.enc(x)
        h = state[0] if self.cell == 'lstm' else state          # [1, B, H]
        rep = h[-1].unsqueeze(1).repeat(1, self.T, 1)            # RepeatVector: [B, T, H]
        y, _ = self.dec(rep)
        return self.out(y)


def keras_to_torch_gates(m, cell, H):
    """Columns of a Keras [., G*H] matrix (or a [G*H] bias) in PyTorch's gate order."""
    if cell != 'gru':
        return m
    z, r, h = m[..., 0:H], m[..., H:2 * H], m[..., 2 * H:3 * H]
    return torch.cat([r, z, h], dim=-1)


def load_weights(model, cell, H, w):
    with torch.no_grad():
        for layer, (k, rk, b) in ((model.enc, w[0:3]), (model.dec, w[3:6])):
            layer.weight_ih_l0.copy_(keras_to_torch_gates(k, cell, H).t())
            layer.weight_hh_l0.copy_(keras_to_torch_gates(rk, cell, H).t())
            if cell == 'gru':                                     # b[2, 3H]: input bias, recurrent bias
                layer.bias_ih_l0.copy_(keras_to_torch_gates(b[0], cell, H))
                layer.bias_hh_l0.copy_(keras_to_torch_gates(b[1], cell, H))
            else:
                layer.bias_ih_l0.copy_(b)
                layer.bias_hh_l0.zero_()
        model.out.weight.copy_(w[6].t())
        model.out.bias.copy_(w[7])


def stats(samples):
    s = sorted(samples)
    n = len(s)
    median = s[n // 2] if n % 2 == 1 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {'runs': n, 'median': median, 'min': s[0], 'max': s[-1], 'samples': samples}


def timed(fn, warmup, runs):
    """Wall-clock and process-CPU milliseconds of each timed run, after the warm-up runs."""
    last = None
    w0 = time.perf_counter()
    i = 0
    while i < 5000 and (i < warmup or time.perf_counter() - w0 < 1.5):   # as bench/speed-child.ts: >= warmup runs and >= 1.5 s
        last = fn()
        i += 1
    wall, cpu = [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        last = fn()
        wall.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    return stats(wall), stats(cpu), last


def blas_in_use():
    try:
        with open('/proc/self/maps') as f:
            maps = f.read()
    except OSError:
        return 'unknown BLAS'
    if 'openblas' in maps:
        return 'OpenBLAS'
    if 'mkl' in maps:
        return 'MKL'
    if 'libblas' in maps:
        return 'reference BLAS (libblas; install libopenblas0 for OpenBLAS)'
    return 'no system BLAS mapped'


def main():
    cell, shape, B, T, D, H, path, train_runs, infer_runs, warmup = sys.argv[1:11]
    B, T, D, H = int(B), int(T), int(D), int(H)
    train_runs, infer_runs, warmup = int(train_runs), int(infer_runs), int(warmup)
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)
    tensors, meta = read_safetensors(path)
    prefix = 'tw' if cell == 'gru' else 'w'
    ref_loss = float(meta['torch_loss' if cell == 'gru' else 'loss'])
    w = [tensors[f'{prefix}{i}'] for i in range(8)]
    x = tensors['x'].reshape(B, T, D).contiguous()

    model = Autoencoder(cell, T, D, H)
    load_weights(model, cell, H, w)
    if cell != 'gru':
        # Keras LSTM/RNN cells have one bias; PyTorch's second (bias_hh) would be a redundant parameter that Adam moves too,
        # so training would drift from the other frameworks. Keep it at zero, frozen: the same model, the same updates.
        for layer in (model.enc, model.dec):
            layer.bias_hh_l0.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    with torch.no_grad():
        loss0 = float(nn.functional.mse_loss(model(x), x))

    def infer():
        with torch.no_grad():
            return model(x)

    infer_stats, infer_cpu, y = timed(infer, warmup, infer_runs)
    checksum = float(y.double().sum())
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        v = float(loss)
        losses.append(v)
        return v

    train_stats, train_cpu = None, None
    if train_runs > 0:
        train_stats, train_cpu, _ = timed(step, warmup, train_runs)
    rel = abs(loss0 - ref_loss) / max(abs(ref_loss), 1e-12)
    note = 'GRU: PyTorch has only the reset-after variant; its row uses bptt resetAfter=true weights' if cell == 'gru' else ''
    res = {
        'framework': 'pytorch', 'cell': cell, 'shape': shape,
        'detail': f'PyTorch {torch.__version__}, {blas_in_use()}, {torch.get_num_threads()} thread',
        'loss': loss0, 'lossRelDiff': rel, 'lossOk': rel <= 1e-4,
        'lossAfterStep': losses[1] if len(losses) > 1 else None,
        'infer': infer_stats, 'train': train_stats, 'inferCpu': infer_cpu, 'trainCpu': train_cpu, 'warmup': {'infer': warmup, 'train': warmup},
        'checksum': checksum, 'finalLoss': losses[-1] if losses else None,
        'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'note': note,
    }
    sys.stdout.write('RESULT ' + json.dumps(res) + '\n')


if __name__ == '__main__':
    main()
