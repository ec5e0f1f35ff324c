"""CharRNN against PyTorch's nn.LSTM per training iteration (the loss-gap study of issue 12).

Both train char-rnn's default model (2 x 128 LSTM, batch 50, seq 50, RMSprop
2e-3 / 0.95 / eps 1e-8, element-wise clip 5, state carried across batches)
on the same Tiny Shakespeare batches in float64, one thread, and print the
training loss every ``--every`` iterations and the validation loss at the end:

- ``same``: torch starts from CharRNN's own initial weights (gate blocks
  reordered i,f,o,g -> i,f,g,o; CharRNN's one bias per gate as ``bias_ih``,
  ``bias_hh`` zero): the two runs must agree to round-off if every other
  setting (loss, clip, RMSprop, state carry-over) is the same;
- ``inits``: each from its own init -- CharRNN's (char-rnn's: uniform 0.08,
  forget-gate bias 1) and bench.py's torch init (uniform 0.08 for every
  parameter, both biases) -- plus the two crossed over (CharRNN without the
  forget-gate bias, torch with it).

    PYTHONPATH=$PWD:/tmp/engine_torch python scripts/char_loss_gap.py --iterations 300
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402


def load(args):
    from theano_rnn.data.chars import CharLoader, CharVocab, read_chars

    root = args.data or os.environ.get("THEANO_RNN_SHARED_DATA", "../shared/data")
    text = read_chars(os.path.join(root, "tinyshakespeare", "input.txt"))
    vocab = CharVocab.from_text(text)
    return CharLoader(text, vocab, batch_size=50, seq_length=50), len(vocab)


def ours(C, forget_bias=True, seed=123):
    from theano_rnn.models.char import CharRNN

    m = CharRNN(C, seed=seed)
    if not forget_bias:  # the uniform draw kept for the forget-gate biases too
        p = m.init_params(np.random.RandomState(seed))
        rng = np.random.RandomState(seed)
        shapes = m.cell.param_shapes(C, m.hidden_dim, m.num_layers, m.input_mode)
        raw = {n: rng.uniform(-0.08, 0.08, s) for n, s in shapes.items()}
        p["b"] = raw["b"]
        m.set_params(p)
    states = [m.zero_states(50)]

    def step(x, y):
        loss, states[0] = m.train_step(x, y, 2e-3, states[0])
        return loss

    def evaluate(loader):
        st, losses = m.zero_states(50), []
        for i in range(loader.num_batches("val")):
            loss, st = m.eval_loss(*loader.batch("val", i), st)
            losses.append(loss)
        return float(np.mean(losses))

    return m, step, evaluate


def theirs(torch, C, params=None, forget_bias=False, one_bias=False):
    tdt = torch.float64
    torch.manual_seed(123)
    lstm = torch.nn.LSTM(C, 128, num_layers=2).to(tdt)
    out = torch.nn.Linear(128, C).to(tdt)
    plist = list(lstm.parameters()) + list(out.parameters())
    with torch.no_grad():
        for p in plist:
            torch.nn.init.uniform_(p, -0.08, 0.08)
        if forget_bias:  # char-rnn: i2h's forget bias 1 (h2h's stays uniform)
            for layer in range(2):
                getattr(lstm, f"bias_ih_l{layer}")[128:256] = 1.0
        if params is not None:
            order = [0, 1, 3, 2]  # ours i,f,o,g -> torch i,f,g,o
            U = params["Ux"]
            lstm.weight_ih_l0.copy_(torch.as_tensor(np.concatenate([U[j] for j in order])))
            lstm.weight_ih_l1.copy_(torch.as_tensor(np.concatenate([params["U"][j] for j in order])))
            for layer in range(2):
                W = params["W"][4 * layer : 4 * layer + 4]
                b = params["b"][4 * layer : 4 * layer + 4]
                getattr(lstm, f"weight_hh_l{layer}").copy_(torch.as_tensor(np.concatenate([W[j] for j in order])))
                getattr(lstm, f"bias_ih_l{layer}").copy_(torch.as_tensor(np.concatenate([b[j] for j in order])))
                getattr(lstm, f"bias_hh_l{layer}").zero_()
            out.weight.copy_(torch.as_tensor(params["V"]))
            out.bias.copy_(torch.as_tensor(params["c"]))
    if one_bias:  # bias_hh fixed at its value: one trained bias per gate, as CharRNN
        plist = [p for n, p in list(lstm.named_parameters()) if not n.startswith("bias_hh")]
        plist += list(out.parameters())
        for layer in range(2):
            getattr(lstm, f"bias_hh_l{layer}").requires_grad_(False)
    opt = torch.optim.RMSprop(plist, lr=2e-3, alpha=0.95, eps=1e-8)
    hc = [None]

    def onehot(xb):
        return torch.nn.functional.one_hot(torch.as_tensor(xb.astype(np.int64)), C).to(tdt)

    def step(x, y):
        opt.zero_grad()
        h, new = lstm(onehot(x), hc[0])
        loss = torch.nn.functional.cross_entropy(out(h).reshape(-1, C), torch.as_tensor(y.astype(np.int64)).reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_value_(plist, 5.0)
        opt.step()
        hc[0] = tuple(t.detach() for t in new)
        return float(loss.detach())

    def evaluate(loader):
        with torch.no_grad():
            hv, losses = None, []
            for i in range(loader.num_batches("val")):
                xv, yv = loader.batch("val", i)
                h, hv = lstm(onehot(xv), hv)
                losses.append(float(torch.nn.functional.cross_entropy(
                    out(h).reshape(-1, C), torch.as_tensor(yv.astype(np.int64)).reshape(-1))))
        return float(np.mean(losses))

    return step, evaluate


def train(name, step, evaluate, loader, n, every):
    ntrain = loader.num_batches("train")
    losses, t0 = [], time.perf_counter()
    for i in range(n):
        losses.append(step(*loader.batch("train", i % ntrain)))
    elapsed = time.perf_counter() - t0
    val = evaluate(loader)
    print(f"{name:28s} " + " ".join(f"{losses[i]:.4f}" for i in range(0, n, every))
          + f" | last {losses[-1]:.4f} val {val:.4f} ({elapsed:.0f} s)", flush=True)
    return np.array(losses), val


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--study", choices=("same", "inits", "both"), default="both")
    ap.add_argument("--data", default=None)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    loader, C = load(args)
    print(f"train loss every {args.every} iterations, float64, {args.iterations} iterations; "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.study in ("same", "both"):
        m, step, ev = ours(C)
        start = m.get_params()
        a, _ = train("charrnn (its init)", step, ev, loader, args.iterations, args.every)
        for label, one in (("torch from it, 2 biases", False), ("torch from it, bias_hh fixed", True)):
            tstep, tev = theirs(torch, C, params=start, one_bias=one)
            b, _ = train(label, tstep, tev, loader, args.iterations, args.every)
            k = min(len(a), 20)
            print(f"  max relative difference of the losses, first {k} iterations: "
                  f"{np.max(np.abs(a[:k] - b[:k]) / b[:k]):.2e}; all: {np.max(np.abs(a - b) / b):.2e}")
    if args.study in ("inits", "both"):
        for name, (step, ev) in [
            ("charrnn, forget bias 1", ours(C)[1:]),
            ("charrnn, forget bias unif", ours(C, forget_bias=False)[1:]),
            ("torch, bench init", theirs(torch, C)),
            ("torch, forget bias 1", theirs(torch, C, forget_bias=True)),
            ("torch, bench init, 1 bias", theirs(torch, C, one_bias=True)),
        ]:
            train(name, step, ev, loader, args.iterations, args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
