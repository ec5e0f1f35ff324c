"""gwtaylor's Elman RNN (theano-rnn ``rnn.py``) in NumPy, one time step at a time.

Independent of the port: a forward pass per step, a hand-written
backpropagation through time, and his training loop (one sequence per
update, ``v = mom*v - lr*g; p += v``, momentum switch, lr decay per epoch).
Parameters ``W (H,H), W_in (n_in,H), W_out (H,n_out), h0, bh, by`` in that
order; the cost is ``loss + L1_reg*L1 + L2_reg*L2_sqr`` with his
``L1 = |sum(W)| + |sum(W_in)| + |sum(W_out)|``.

Losses: ``real`` MSE (mean over steps and outputs), ``binary`` mean binary
cross-entropy of ``sigmoid(y)``, ``softmax`` mean NLL of integer labels.
float64 throughout; a readable reference, not fast code.
"""

import numpy as np

NAMES = ("W", "W_in", "W_out", "h0", "bh", "by")


def _act(name, a):
    if name == "tanh":
        return np.tanh(a)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-a))
    if name == "relu":
        return a * (a > 0)
    if name == "cappedrelu":
        return np.minimum(a * (a > 0), 6)
    raise ValueError(name)


def _act_grad(name, a, h):
    if name == "tanh":
        return 1.0 - h ** 2
    if name == "sigmoid":
        return h * (1.0 - h)
    if name == "relu":
        return (a > 0).astype(float)
    if name == "cappedrelu":
        return ((a > 0) & (a < 6)).astype(float)
    raise ValueError(name)


def init_params(n_in, n_hidden, n_out, rng=None, scale=0.01):
    """His draw: W, W_in, W_out from U(-scale, scale) (``rng=None``: np.random), zeros else."""
    r = np.random if rng is None else rng
    P = {}
    P["W"] = r.uniform(size=(n_hidden, n_hidden), low=-scale, high=scale)
    P["W_in"] = r.uniform(size=(n_in, n_hidden), low=-scale, high=scale)
    P["W_out"] = r.uniform(size=(n_hidden, n_out), low=-scale, high=scale)
    P["h0"] = np.zeros(n_hidden)
    P["bh"] = np.zeros(n_hidden)
    P["by"] = np.zeros(n_out)
    return P


def forward(P, x, activation="tanh"):
    """Pre-activations ``a``, states ``h`` (T, H) and outputs ``y`` (T, n_out)."""
    T = x.shape[0]
    H = P["h0"].shape[0]
    a = np.zeros((T, H))
    h = np.zeros((T, H))
    h_prev = P["h0"]
    for t in range(T):
        a[t] = x[t].dot(P["W_in"]) + h_prev.dot(P["W"]) + P["bh"]
        h[t] = _act(activation, a[t])
        h_prev = h[t]
    y = h.dot(P["W_out"]) + P["by"]
    return a, h, y


def _softmax(y):
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_and_dy(y, target, output_type):
    """The loss and its gradient with respect to the linear outputs ``y``."""
    if output_type == "real":
        d = y - target
        return np.mean(d ** 2), 2.0 * d / d.size
    if output_type == "binary":
        p = 1.0 / (1.0 + np.exp(-y))
        loss = np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p)))
        return loss, (p - target) / p.size
    if output_type == "softmax":
        p = _softmax(y)
        T = y.shape[0]
        idx = np.asarray(target, dtype=int)
        loss = -np.mean(np.log(p[np.arange(T), idx]))
        d = p.copy()
        d[np.arange(T), idx] -= 1.0
        return loss, d / T
    raise ValueError(output_type)


def cost_and_grads(P, x, target, output_type="real", activation="tanh", L1_reg=0.0, L2_reg=0.0):
    """``(cost, loss, grads)``: his cost and the gradient of every parameter."""
    a, h, y = forward(P, x, activation)
    loss, dy = loss_and_dy(y, target, output_type)
    T = x.shape[0]
    G = {k: np.zeros_like(v) for k, v in P.items()}
    G["W_out"] = h.T.dot(dy)
    G["by"] = dy.sum(axis=0)
    dh_next = np.zeros_like(P["h0"])
    for t in reversed(range(T)):
        dh = dy[t].dot(P["W_out"].T) + dh_next
        da = dh * _act_grad(activation, a[t], h[t])
        h_prev = h[t - 1] if t > 0 else P["h0"]
        G["W"] += np.outer(h_prev, da)
        G["W_in"] += np.outer(x[t], da)
        G["bh"] += da
        dh_next = da.dot(P["W"].T)
    G["h0"] = dh_next
    L1 = sum(abs(P[k].sum()) for k in ("W", "W_in", "W_out"))
    L2 = sum((P[k] ** 2).sum() for k in ("W", "W_in", "W_out"))
    for k in ("W", "W_in", "W_out"):
        G[k] = G[k] + L1_reg * np.sign(P[k].sum()) * np.ones_like(P[k]) + L2_reg * 2 * P[k]
    return loss + L1_reg * L1 + L2_reg * L2, loss, G


def fit(P, X, Y, output_type="real", activation="tanh", learning_rate=0.01, n_epochs=1,
        learning_rate_decay=1.0, initial_momentum=0.5, final_momentum=0.9,
        momentum_switchover=5, L1_reg=0.0, L2_reg=0.0, max_updates=None):
    """His training loop on a copy of ``P``; returns ``(P, costs)`` (cost before each update)."""
    P = {k: v.copy() for k, v in P.items()}
    V = {k: np.zeros_like(v) for k, v in P.items()}
    costs = []
    lr = learning_rate
    for epoch in range(1, n_epochs + 1):
        mom = final_momentum if epoch > momentum_switchover else initial_momentum
        for i in range(len(X)):
            if max_updates is not None and len(costs) >= max_updates:
                return P, costs
            c, _, G = cost_and_grads(P, X[i], Y[i], output_type, activation, L1_reg, L2_reg)
            costs.append(c)
            for k in NAMES:
                V[k] = mom * V[k] - lr * G[k]
                P[k] = P[k] + V[k]
        lr *= learning_rate_decay
    return P, costs
