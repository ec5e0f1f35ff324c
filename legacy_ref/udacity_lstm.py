"""NumPy reference of the Udacity ``6_lstm.ipynb`` LSTM (seed 003's listing), hand-differentiated.

One Python loop iteration per time step, forward and backward; float64; NumPy
and the standard library only.  Parameters as the listing names them
(``ix, im, ib, fx, fm, fb, cx, cm, cb, ox, om, ob, w, b``; inputs are one-hot
rows ``i`` (B, V), ``o`` the previous output (B, N))::

    ig = sigmoid(i ix + o im + ib)          input gate
    fg = sigmoid(i fx + o fm + fb)          forget gate
    u  = i cx + o cm + cb                   update
    s  = fg * s_prev + ig * tanh(u)         state
    og = sigmoid(i ox + o om + ob)          output gate
    o  = og * tanh(s)                       output

Loss: mean over the T*B rows of the softmax cross-entropy of ``concat(o_t) w + b``
against the next one-hot batch.  One training step (``train_step``): the
gradient clipped to global norm ``clip_norm`` (``tf.clip_by_global_norm``:
times ``clip_norm * min(1 / norm, 1 / clip_norm)``), SGD with the staircase
rate ``lr0 * decay ** (step // decay_steps)``, the last output and state kept
for the next call (no gradient through them).
"""

from collections import OrderedDict

import numpy as np

__all__ = [
    "PARAM_NAMES", "sigmoid", "truncated_normal", "init_params", "forward", "loss_and_grads",
    "clip_by_global_norm", "UdacityLSTMNumpy",
]

GATES = ("i", "f", "c", "o")
PARAM_NAMES = tuple(g + k for g in GATES for k in ("x", "m", "b")) + ("w", "b")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def truncated_normal(rng, shape, mean=0.0, stddev=1.0):
    """Normal draws, redrawn while more than 2 standard deviations from the mean."""
    z = rng.standard_normal(shape)
    out = np.abs(z) > 2.0
    while out.any():
        z[out] = rng.standard_normal(int(out.sum()))
        out = np.abs(z) > 2.0
    return mean + stddev * z


def init_params(vocabulary_size, num_nodes, rng, mean=-0.1, stddev=0.1):
    """The listing's ``tf.truncated_normal(shape, -0.1, 0.1)`` (mean -0.1, stddev 0.1),
    drawn ix, im, fx, fm, cx, cm, ox, om, w; biases zero."""
    V, N = vocabulary_size, num_nodes
    p = OrderedDict()
    for g in GATES:
        p[g + "x"] = truncated_normal(rng, (V, N), mean, stddev)
        p[g + "m"] = truncated_normal(rng, (N, N), mean, stddev)
        p[g + "b"] = np.zeros((1, N))
    p["w"] = truncated_normal(rng, (N, V), mean, stddev)
    p["b"] = np.zeros(V)
    return p


def forward(p, data, output0, state0):
    """``data`` (T+1, B, V) one-hot; returns ``(loss, cache)``."""
    T = data.shape[0] - 1
    o, s = output0, state0
    steps = []
    for t in range(T):
        i = data[t]
        ig = sigmoid(i @ p["ix"] + o @ p["im"] + p["ib"])
        fg = sigmoid(i @ p["fx"] + o @ p["fm"] + p["fb"])
        u = np.tanh(i @ p["cx"] + o @ p["cm"] + p["cb"])
        s_new = fg * s + ig * u
        og = sigmoid(i @ p["ox"] + o @ p["om"] + p["ob"])
        ts = np.tanh(s_new)
        o_new = og * ts
        steps.append(dict(i=i, o_prev=o, s_prev=s, ig=ig, fg=fg, u=u, og=og, ts=ts))
        o, s = o_new, s_new
    outs = [st["og"] * st["ts"] for st in steps]
    logits = np.concatenate(outs, axis=0) @ p["w"] + p["b"]
    m = logits.max(axis=1, keepdims=True)
    log_p = logits - (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))
    labels = data[1:].reshape(-1, data.shape[2])
    loss = float(np.mean(-np.sum(labels * log_p, axis=1)))
    cache = dict(steps=steps, outs=outs, log_p=log_p, labels=labels, output=o, state=s)
    return loss, cache


def loss_and_grads(p, data, output0, state0):
    """``(loss, last output, last state, gradients)``; the backward walks t = T-1 .. 0."""
    loss, cache = forward(p, data, output0, state0)
    steps, labels = cache["steps"], cache["labels"]
    R = labels.shape[0]
    B = data.shape[1]
    g = OrderedDict((n, np.zeros_like(p[n])) for n in PARAM_NAMES)
    dlogits = (np.exp(cache["log_p"]) - labels) / R
    H = np.concatenate(cache["outs"], axis=0)
    g["w"] = H.T @ dlogits
    g["b"] = dlogits.sum(axis=0)
    dH = dlogits @ p["w"].T
    do_next = np.zeros_like(output0)
    ds_next = np.zeros_like(state0)
    for t in reversed(range(len(steps))):
        st = steps[t]
        do = dH[t * B:(t + 1) * B] + do_next
        dog = do * st["ts"]
        ds = ds_next + do * st["og"] * (1.0 - st["ts"] ** 2)
        dfg = ds * st["s_prev"]
        dig = ds * st["u"]
        du = ds * st["ig"]
        ds_next = ds * st["fg"]
        pre = dict(i=dig * st["ig"] * (1 - st["ig"]), f=dfg * st["fg"] * (1 - st["fg"]),
                   c=du * (1 - st["u"] ** 2), o=dog * st["og"] * (1 - st["og"]))
        do_next = np.zeros_like(output0)
        for k in GATES:
            a = pre[k]
            g[k + "x"] += st["i"].T @ a
            g[k + "m"] += st["o_prev"].T @ a
            g[k + "b"] += a.sum(axis=0, keepdims=True)
            do_next += a @ p[k + "m"].T
    return loss, cache["output"], cache["state"], g


def clip_by_global_norm(grads, clip_norm):
    """``tf.clip_by_global_norm``: ``(clipped, global_norm)``."""
    norm = float(np.sqrt(sum(np.sum(v ** 2) for v in grads.values())))
    scale = clip_norm * min(1.0 / norm, 1.0 / clip_norm)
    return OrderedDict((k, v * scale) for k, v in grads.items()), norm


class UdacityLSTMNumpy:
    """The notebook's training graph: parameters, carried state, step count."""

    def __init__(self, params, batch_size, learning_rate=10.0, decay_steps=5000, decay_rate=0.1,
                 clip_norm=1.25):
        self.p = OrderedDict((k, np.array(params[k], dtype=np.float64)) for k in PARAM_NAMES)
        N = self.p["im"].shape[0]
        self.saved_output = np.zeros((batch_size, N))
        self.saved_state = np.zeros((batch_size, N))
        self.global_step = 0
        self.learning_rate, self.decay_steps = learning_rate, decay_steps
        self.decay_rate, self.clip_norm = decay_rate, clip_norm

    def train_step(self, data):
        """One clipped SGD step -> ``(loss, lr)``; the carried state and step advance."""
        loss, o, s, g = loss_and_grads(self.p, np.asarray(data, dtype=np.float64),
                                       self.saved_output, self.saved_state)
        g, _ = clip_by_global_norm(g, self.clip_norm)
        lr = self.learning_rate * self.decay_rate ** (self.global_step // self.decay_steps)
        for k in PARAM_NAMES:
            self.p[k] = self.p[k] - lr * g[k]
        self.saved_output, self.saved_state = o, s
        self.global_step += 1
        return loss, lr
