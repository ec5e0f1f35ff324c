"""NumPy reference of the (deep) bidirectional RNN / GRU / LSTM stack of issue 6, hand-differentiated.

The ground truth for the PyTensor port: float64, one Python loop iteration per time step
(vectorised over the batch only), and a hand-written backward pass (no autodiff).  It
follows the issue-6 spec ("The bidirectional stack"):

* cells: the WildML part-4 GRU (``gru_theano.py``: ``hard_sigmoid`` gates by default,
  reset gate applied to ``h_prev`` before ``Wh``), the LSTM of ``lstm_numpy.py`` (logistic
  gates by default) and the plain ``tanh`` RNN; ``directions=1`` is the unidirectional
  baseline, ``directions=2`` runs a second, independent direction from ``t = T-1`` down to
  ``0`` and concatenates ``[h_f[t], h_b[t]]`` (forward first) as the next layer's input;
* heads: a cloze head (softmax over the vocabulary at one blank position per sequence)
  and the mean-pooling classifier of the Theano LSTM sentiment tutorial (``lstm.py``:
  masked mean over time, non-inverted dropout multiplier, ``-log(p[y] + 1e-8)``,
  weight decay ``decay_c * sum(V ** 2)`` on the classifier).

Equations (one layer, one direction, one step; ``x`` the layer input at t, ``m = M[t, b]``)::

    pre  = Wx x + b                      (k blocks of H: rnn 1, gru 3, lstm 4)
    rnn:  hn = tanh(pre + Wh h_prev)
    gru:  z = g(pre_z + Wh_z h_prev);  r = g(pre_r + Wh_r h_prev)
          cand = tanh(pre_c + Wh_c (h_prev * r));  hn = (1 - z) * cand + z * h_prev
    lstm: a = pre + Wh h_prev;  i, f, o = g(a_i), g(a_f), g(a_o);  cand = tanh(a_c)
          cn = f * c_prev + i * cand;  hn = o * tanh(cn)
    h = m * hn + (1 - m) * h_prev        (and c = m * cn + (1 - m) * c_prev for the lstm)

Padding.  Batches are time-major: tokens ``X`` (T, B) int, mask ``M`` (T, B) float of
0/1, *right*-padded (sequence b's real tokens at ``t = 0 .. len_b - 1``, mask 1 there and
0 after).  A padded step keeps the state exactly (``m = 0``), so

* the forward direction carries each sequence's last real state through the padding;
* the backward direction starts at ``t = T-1`` from the zero state and keeps it through
  the padding until it reaches the sequence's last real token, so it starts that
  sequence exactly where an unpadded run of it would;
* hence ``top[:len_b, b]`` (and every loss / gradient below) equals running sequence b
  alone with ``B = 1`` and no padding.  The token values at padded steps do not matter
  (they receive exactly zero gradient).  The cloze position and the pooled mean only
  read real steps when ``pos_b < len_b`` (the caller's contract).

The functions are pure: ``params`` is an ``OrderedDict`` name -> float64 array in the
spec's layout (see :func:`init_params`); nothing here keeps state or touches the global
NumPy RNG.  NumPy and the standard library only.
"""

from collections import OrderedDict

import numpy as np

from .common import GATE_ACTIVATIONS

__all__ = [
    "CELLS",
    "BLOCKS",
    "DIRECTION_NAMES",
    "DEFAULT_GATE",
    "CLASSIFY_OFFSET",
    "param_names",
    "init_params",
    "forward",
    "cloze_probs",
    "cloze_loss",
    "cloze_loss_and_grads",
    "classify_probs",
    "classify_loss",
    "classify_loss_and_grads",
]

CELLS = ("rnn", "gru", "lstm")
#: blocks of H rows in ``Wx``, ``Wh`` and ``b`` per cell (in the order of the equations)
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
#: the gate nonlinearity used when ``gate=None`` (rnn has no gates)
DEFAULT_GATE = {"rnn": None, "gru": "hard_sigmoid", "lstm": "sigmoid"}
DIRECTION_NAMES = ("f", "b")
#: the ``1e-8`` inside the classifier's log (``lstm.py``: ``off = 1e-8``)
CLASSIFY_OFFSET = 1e-8

# per-step intermediates each cell stores for its backward pass, each (T, B, H)
_CACHE_NAMES = {
    "rnn": ("h_prev", "hn"),
    "gru": ("h_prev", "az", "ar", "z", "r", "cand"),
    "lstm": ("h_prev", "c_prev", "ai", "af", "ao", "i", "f", "o", "cand", "tanh_c"),
}


# ----------------------------------------------------------------------------- checks
def _config(cell, num_layers, directions, gate):
    """Validated ``(cell, L, dirs, gate_fn, gate_grad)``; one-line ValueError otherwise."""
    if cell not in CELLS:
        raise ValueError("cell must be one of %s, got %r" % (list(CELLS), cell))
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError("num_layers must be an int >= 1, got %r" % (num_layers,))
    if directions not in (1, 2) or isinstance(directions, bool):
        raise ValueError("directions must be 1 or 2, got %r" % (directions,))
    if gate is not None and gate not in GATE_ACTIVATIONS:
        raise ValueError("gate must be None or one of %s, got %r" % (sorted(GATE_ACTIVATIONS), gate))
    name = DEFAULT_GATE[cell] if gate is None else gate
    fn, grad = GATE_ACTIVATIONS[name] if name is not None else (None, None)  # rnn: gate unused
    return cell, int(num_layers), int(directions), fn, grad


def param_names(cell, num_layers, directions):
    """The parameter names in :func:`init_params` order: ``E``, per layer l and direction
    f then b ``Wx_{d}{l}``, ``Wh_{d}{l}``, ``b_{d}{l}``, then ``V``, ``c``."""
    _, L, dirs, _, _ = _config(cell, num_layers, directions, None)
    names = ["E"]
    for l in range(L):
        for d in DIRECTION_NAMES[:dirs]:
            names += ["Wx_%s%d" % (d, l), "Wh_%s%d" % (d, l), "b_%s%d" % (d, l)]
    return names + ["V", "c"]


def _check_params(params, cell, L, dirs):
    """Return ``(P, C, D, H, K)``: float64 views of ``params`` after checking names and shapes."""
    expected = param_names(cell, L, dirs)
    missing = [n for n in expected if n not in params]
    extra = [n for n in params if n not in expected]
    if missing or extra:
        raise ValueError(
            "params for cell=%s num_layers=%d directions=%d: missing %s, unexpected %s" % (cell, L, dirs, missing, extra)
        )
    P = {n: np.asarray(params[n], dtype=np.float64) for n in expected}
    k = BLOCKS[cell]
    if P["E"].ndim != 2 or P["Wh_f0"].ndim != 2:
        raise ValueError("E and Wh_f0 must be 2-D, got shapes %s and %s" % (P["E"].shape, P["Wh_f0"].shape))
    D, C = P["E"].shape
    H = P["Wh_f0"].shape[1]
    K = P["V"].shape[0] if P["V"].ndim == 2 else -1
    want = {"E": (D, C), "V": (K, dirs * H), "c": (K,)}
    for l in range(L):
        for d in DIRECTION_NAMES[:dirs]:
            want["Wx_%s%d" % (d, l)] = (k * H, D if l == 0 else dirs * H)
            want["Wh_%s%d" % (d, l)] = (k * H, H)
            want["b_%s%d" % (d, l)] = (k * H,)
    for n in expected:
        if P[n].shape != want[n]:
            raise ValueError("parameter %s has shape %s, expected %s (cell=%s, C=%d, D=%d, H=%d, K=%d)"
                             % (n, P[n].shape, want[n], cell, C, D, H, K))
    return P, C, D, H, K


def _check_batch(X, M, C):
    """``X`` as an intp (T, B) array of tokens in ``[0, C)`` and ``M`` as float64 (T, B)."""
    X = np.asarray(X)
    M = np.asarray(M, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError("X must be a non-empty (T, B) array of token indices, got shape %s" % (X.shape,))
    if not np.issubdtype(X.dtype, np.integer):
        raise ValueError("X must hold integer token indices, got dtype %s" % (X.dtype,))
    if M.shape != X.shape:
        raise ValueError("mask M must have the shape of X %s, got %s" % (X.shape, M.shape))
    if X.min() < 0 or X.max() >= C:
        raise ValueError("token indices must lie in [0, %d), got min %d max %d" % (C, X.min(), X.max()))
    return X.astype(np.intp), M


def _check_targets(y, B, K, name="y"):
    y = np.asarray(y)
    if y.shape != (B,) or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError("%s must be an int array of shape (%d,), got shape %s dtype %s" % (name, B, y.shape, y.dtype))
    if y.min() < 0 or y.max() >= K:
        raise ValueError("%s must lie in [0, %d), got min %d max %d" % (name, K, y.min(), y.max()))
    return y.astype(np.intp)


def _check_drop(drop, B, width):
    if drop is None:
        return np.ones((B, width))
    drop = np.asarray(drop, dtype=np.float64)
    try:
        return np.broadcast_to(drop, (B, width))
    except ValueError:
        raise ValueError("drop must broadcast to (B, dirs*H) = (%d, %d), got shape %s" % (B, width, drop.shape)) from None


# ----------------------------------------------------------------------------- init
def init_params(cell, vocab_size, embed_dim, hidden_dim, num_layers, directions, num_outputs, rng):
    """Parameters in the spec's layout, ``OrderedDict`` in :func:`param_names` order.

    ``uniform(-sqrt(1/n), +sqrt(1/n), shape)`` drawn from ``rng`` (a
    ``np.random.RandomState``, or anything with its ``uniform``) in the order ``E``
    (n = C), then per layer l and direction f then b: ``Wx`` (n = D_l), ``Wh`` (n = H)
    (``b`` zeros, no draw), then ``V`` (n = dirs*H); ``c`` zeros.  Shapes: ``E`` (D, C),
    ``Wx_{d}{l}`` (k*H, D_l) with D_0 = D and D_l = dirs*H, ``Wh_{d}{l}`` (k*H, H),
    ``b_{d}{l}`` (k*H,), ``V`` (K, dirs*H), ``c`` (K,).  A test fixture: the port has its
    own initialisation.
    """
    cell, L, dirs, _, _ = _config(cell, num_layers, directions, None)
    if rng is None or not hasattr(rng, "uniform"):
        raise ValueError("rng must be a numpy.random.RandomState (no global RNG), got %r" % (rng,))
    dims = {"vocab_size": vocab_size, "embed_dim": embed_dim, "hidden_dim": hidden_dim, "num_outputs": num_outputs}
    for key, val in dims.items():
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError("%s must be an int >= 1, got %r" % (key, val))
    C, D, H, K, k = int(vocab_size), int(embed_dim), int(hidden_dim), int(num_outputs), BLOCKS[cell]

    def draw(fan_in, shape):
        r = np.sqrt(1.0 / fan_in)
        return np.asarray(rng.uniform(-r, r, shape), dtype=np.float64)

    params = OrderedDict()
    params["E"] = draw(C, (D, C))
    for l in range(L):
        D_l = D if l == 0 else dirs * H
        for d in DIRECTION_NAMES[:dirs]:
            params["Wx_%s%d" % (d, l)] = draw(D_l, (k * H, D_l))
            params["Wh_%s%d" % (d, l)] = draw(H, (k * H, H))
            params["b_%s%d" % (d, l)] = np.zeros(k * H)
    params["V"] = draw(dirs * H, (K, dirs * H))
    params["c"] = np.zeros(K)
    return params


# -------------------------------------------------------------------------- forward
def _time_order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _direction_forward(cell, g, Wx, Wh, b, xs, M, reverse):
    """Run one direction of one layer over ``xs`` (T, B, D_l); returns ``out`` (T, B, H)
    (``out[t]`` = the masked state after step t) and the per-step cache ``st``."""
    T, B = M.shape
    H = Wh.shape[1]
    st = {n: np.zeros((T, B, H)) for n in _CACHE_NAMES[cell]}
    out = np.zeros((T, B, H))
    h = np.zeros((B, H))
    c = np.zeros((B, H))
    for t in _time_order(T, reverse):
        m = M[t][:, None]
        pre = xs[t].dot(Wx.T) + b  # (B, k*H)
        st["h_prev"][t] = h
        if cell == "rnn":
            hn = np.tanh(pre + h.dot(Wh.T))
            st["hn"][t] = hn
        elif cell == "gru":
            az = pre[:, :H] + h.dot(Wh[:H].T)
            ar = pre[:, H:2 * H] + h.dot(Wh[H:2 * H].T)
            z = g(az)
            r = g(ar)
            cand = np.tanh(pre[:, 2 * H:] + (h * r).dot(Wh[2 * H:].T))
            hn = (1.0 - z) * cand + z * h
            st["az"][t], st["ar"][t], st["z"][t], st["r"][t], st["cand"][t] = az, ar, z, r, cand
        else:  # lstm
            st["c_prev"][t] = c
            a = pre + h.dot(Wh.T)
            ai, af, ao = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H]
            i, f, o = g(ai), g(af), g(ao)
            cand = np.tanh(a[:, 3 * H:])
            cn = f * c + i * cand
            tanh_c = np.tanh(cn)
            hn = o * tanh_c
            c = m * cn + (1.0 - m) * c
            st["ai"][t], st["af"][t], st["ao"][t] = ai, af, ao
            st["i"][t], st["f"][t], st["o"][t], st["cand"][t], st["tanh_c"][t] = i, f, o, cand, tanh_c
        h = m * hn + (1.0 - m) * h
        out[t] = h
    return out, st


def _forward(P, X, M, cell, L, dirs, g):
    H = P["Wh_f0"].shape[1]
    xs = P["E"][:, X].transpose(1, 2, 0)  # (T, B, D): x_{t,b} = E[:, X[t, b]]
    layers = []
    for l in range(L):
        outs, states = [], {}
        for j, d in enumerate(DIRECTION_NAMES[:dirs]):
            out, st = _direction_forward(
                cell, g, P["Wx_%s%d" % (d, l)], P["Wh_%s%d" % (d, l)], P["b_%s%d" % (d, l)], xs, M, reverse=(j == 1)
            )
            outs.append(out)
            states[d] = st
        layers.append({"input": xs, "states": states, "outputs": dict(zip(DIRECTION_NAMES, outs))})
        xs = np.concatenate(outs, axis=-1)  # [h_f[t], h_b[t]]
    return xs, {"X": X, "M": M, "H": H, "layers": layers, "top": xs}


def forward(params, X, M, cell, num_layers, directions, gate=None):
    """Run the stack; returns ``(top, cache)``.

    Parameters
    ----------
    params : mapping name -> array, the spec's layout (:func:`init_params`)
    X : int array (T, B), time-major tokens;  M : array (T, B), 0/1 right-padded mask
    cell : "rnn" | "gru" | "lstm";  num_layers : L >= 1;  directions : 1 or 2
    gate : None (the cell default: gru ``hard_sigmoid``, lstm ``sigmoid``),
        ``"sigmoid"`` or ``"hard_sigmoid"``; ignored by the rnn.

    Returns
    -------
    top : ndarray (T, B, dirs*H)
        The top layer's output ``[h_f[t], h_b[t]]`` (forward first; masked states, so
        a padded step repeats the state of the step before it in that direction's order).
    cache : dict
        ``X``, ``M``, ``H``, ``top`` and ``layers``: one dict per layer with ``input``
        (T, B, D_l), ``outputs`` {d: (T, B, H)} and ``states`` {d: {name: (T, B, H)}}
        holding, at the real time index t, the state entering step t (``h_prev``,
        lstm ``c_prev``), gate pre-activations (gru ``az ar``; lstm ``ai af ao``), gate
        values and ``cand`` (rnn: ``hn``; lstm also ``tanh_c``), all *before* masking.
    """
    cell, L, dirs, g, _ = _config(cell, num_layers, directions, gate)
    P, C, _, _, _ = _check_params(params, cell, L, dirs)
    X, M = _check_batch(X, M, C)
    return _forward(P, X, M, cell, L, dirs, g)


# ------------------------------------------------------------------------- backward
def _direction_backward(cell, gp, Wx, Wh, xs, M, reverse, st, dout):
    """BPTT of one direction of one layer.  ``dout`` (T, B, H) is dLoss/d out[t] from
    outside the recurrence (the head or the layer above); returns ``(dxs, dWx, dWh, db)``."""
    T, B = M.shape
    H = Wh.shape[1]
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wx.shape[0])
    dxs = np.zeros_like(xs)
    dh = np.zeros((B, H))  # dLoss/d h (state after step t) from the step processed after t
    dc = np.zeros((B, H))  # same for the lstm cell state
    for t in reversed(_time_order(T, reverse)):
        m = M[t][:, None]
        dh = dh + dout[t]  # total gradient on h at t
        h_prev = st["h_prev"][t]
        dhn = m * dh  # h = m * hn + (1 - m) * h_prev
        dh_prev = (1.0 - m) * dh
        if cell == "rnn":
            hn = st["hn"][t]
            da = dhn * (1.0 - hn ** 2)
            dh_prev = dh_prev + da.dot(Wh)
            dWh += da.T.dot(h_prev)
        elif cell == "gru":
            z, r, cand = st["z"][t], st["r"][t], st["cand"][t]
            # hn = (1 - z) * cand + z * h_prev
            dcand = dhn * (1.0 - z)
            dz = dhn * (h_prev - cand)
            dh_prev = dh_prev + dhn * z
            # cand = tanh(pre_c + Wh_c (h_prev * r))
            dac = dcand * (1.0 - cand ** 2)
            dhr = dac.dot(Wh[2 * H:])
            dh_prev = dh_prev + dhr * r
            dr = dhr * h_prev
            daz = dz * gp(st["az"][t])
            dar = dr * gp(st["ar"][t])
            dh_prev = dh_prev + daz.dot(Wh[:H]) + dar.dot(Wh[H:2 * H])
            dWh[:H] += daz.T.dot(h_prev)
            dWh[H:2 * H] += dar.T.dot(h_prev)
            dWh[2 * H:] += dac.T.dot(h_prev * r)
            da = np.concatenate([daz, dar, dac], axis=1)
        else:  # lstm
            i, f, o, cand, tanh_c = st["i"][t], st["f"][t], st["o"][t], st["cand"][t], st["tanh_c"][t]
            # c = m * cn + (1 - m) * c_prev;  hn = o * tanh(cn);  cn = f * c_prev + i * cand
            dcn = m * dc + dhn * o * (1.0 - tanh_c ** 2)
            do = dhn * tanh_c
            di = dcn * cand
            df = dcn * st["c_prev"][t]
            dcand = dcn * i
            dc = (1.0 - m) * dc + dcn * f  # -> dLoss/d c_prev
            da = np.concatenate(
                [di * gp(st["ai"][t]), df * gp(st["af"][t]), do * gp(st["ao"][t]), dcand * (1.0 - cand ** 2)], axis=1
            )
            dh_prev = dh_prev + da.dot(Wh)
            dWh += da.T.dot(h_prev)
        # pre = Wx x + b
        dWx += da.T.dot(xs[t])
        db += da.sum(axis=0)
        dxs[t] = da.dot(Wx)
        dh = dh_prev
    return dxs, dWx, dWh, db


def _backward(P, cache, dtop, cell, L, dirs, gp):
    """Gradients of all stack parameters given dLoss/d top; ``V`` and ``c`` left at zero."""
    H = cache["H"]
    grads = OrderedDict((n, np.zeros_like(P[n])) for n in param_names(cell, L, dirs))
    d = dtop
    for l in range(L - 1, -1, -1):
        layer = cache["layers"][l]
        dx = np.zeros_like(layer["input"])
        for j, dname in enumerate(DIRECTION_NAMES[:dirs]):
            suffix = "%s%d" % (dname, l)
            dxs, dWx, dWh, db = _direction_backward(
                cell, gp, P["Wx_" + suffix], P["Wh_" + suffix], layer["input"], cache["M"], j == 1,
                layer["states"][dname], d[:, :, j * H:(j + 1) * H],
            )
            grads["Wx_" + suffix] += dWx
            grads["Wh_" + suffix] += dWh
            grads["b_" + suffix] += db
            dx += dxs  # both directions read the same input
        d = dx  # the layer input is [h_f, h_b] of the layer below
    # embedding lookup x_{t,b} = E[:, X[t, b]]: accumulate (a token may repeat)
    X = cache["X"]
    dE = grads["E"]
    for t in range(X.shape[0]):
        for bb in range(X.shape[1]):
            dE[:, X[t, bb]] += d[t, bb]
    return grads


# ----------------------------------------------------------------------------- heads
def _softmax_rows(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _cloze(params, X, M, pos, y, cell, num_layers, directions, gate, need_grads):
    cell, L, dirs, g, gp = _config(cell, num_layers, directions, gate)
    P, C, _, _, K = _check_params(params, cell, L, dirs)
    X, M = _check_batch(X, M, C)
    T, B = X.shape
    pos = _check_targets(pos, B, T, "pos")
    top, cache = _forward(P, X, M, cell, L, dirs, g)
    rows = np.arange(B)
    top_p = top[pos, rows]  # (B, dirs*H)
    logits = top_p.dot(P["V"].T) + P["c"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    if y is None:
        return np.exp(logp)
    y = _check_targets(y, B, K)
    loss = float(-np.mean(logp[rows, y]))
    if not need_grads:
        return loss
    dlogits = np.exp(logp)
    dlogits[rows, y] -= 1.0
    dlogits /= B
    dtop = np.zeros_like(top)
    dtop[pos, rows] = dlogits.dot(P["V"])  # one position per sequence: no collisions
    grads = _backward(P, cache, dtop, cell, L, dirs, gp)
    grads["V"] = dlogits.T.dot(top_p)
    grads["c"] = dlogits.sum(axis=0)
    return loss, grads


def cloze_probs(params, X, M, pos, cell, num_layers, directions, gate=None):
    """``softmax(V top[pos_b, b] + c)`` for each sequence, (B, K)."""
    return _cloze(params, X, M, pos, None, cell, num_layers, directions, gate, False)


def cloze_loss(params, X, M, pos, y, cell, num_layers, directions, gate=None):
    """``mean_b -log softmax(V top[pos_b, b] + c)[y_b]`` (float).

    ``pos`` (B,) int blank positions in ``[0, T)`` (real steps), ``y`` (B,) int targets
    in ``[0, K)``; other arguments as in :func:`forward`.
    """
    return _cloze(params, X, M, pos, y, cell, num_layers, directions, gate, False)


def cloze_loss_and_grads(params, X, M, pos, y, cell, num_layers, directions, gate=None):
    """``(loss, grads)``: :func:`cloze_loss` and its gradients by a hand-written backward
    pass, an ``OrderedDict`` with the keys (and order) of :func:`param_names`."""
    return _cloze(params, X, M, pos, y, cell, num_layers, directions, gate, True)


def _classify(params, X, M, y, cell, num_layers, directions, drop, decay_c, gate, need_grads):
    cell, L, dirs, g, gp = _config(cell, num_layers, directions, gate)
    P, C, _, H, K = _check_params(params, cell, L, dirs)
    X, M = _check_batch(X, M, C)
    T, B = X.shape
    n = M.sum(axis=0)  # real steps per sequence
    if np.any(n <= 0):
        raise ValueError("every sequence needs at least one real step (mask column sums %s)" % (n.tolist(),))
    drop = _check_drop(drop, B, dirs * H)
    decay_c = float(decay_c)
    top, cache = _forward(P, X, M, cell, L, dirs, g)
    pooled = (top * M[:, :, None]).sum(axis=0) / n[:, None]  # lstm.py: masked mean over time
    proj = pooled * drop  # lstm.py: non-inverted dropout (use_noise ? Bernoulli : keep)
    probs = _softmax_rows(proj.dot(P["V"].T) + P["c"])
    if y is None:
        return probs
    y = _check_targets(y, B, K)
    rows = np.arange(B)
    py = probs[rows, y]
    loss = float(-np.mean(np.log(py + CLASSIFY_OFFSET)) + decay_c * np.sum(P["V"] ** 2))
    if not need_grads:
        return loss
    # d(-log(p_y + off))/d logits_j = p_y / (p_y + off) * (p_j - [j == y])
    dlogits = probs.copy()
    dlogits[rows, y] -= 1.0
    dlogits *= (py / (py + CLASSIFY_OFFSET))[:, None] / B
    dpooled = dlogits.dot(P["V"]) * drop
    dtop = M[:, :, None] * (dpooled / n[:, None])[None, :, :]
    grads = _backward(P, cache, dtop, cell, L, dirs, gp)
    grads["V"] = dlogits.T.dot(proj) + 2.0 * decay_c * P["V"]
    grads["c"] = dlogits.sum(axis=0)
    return loss, grads


def classify_probs(params, X, M, cell, num_layers, directions, drop=None, gate=None):
    """``softmax(V (pooled * drop) + c)``, (B, K); pooled = masked mean of ``top`` over time.

    ``drop``: None (= ones) or an array broadcasting to (B, dirs*H): a 0/1 Bernoulli(keep)
    mask in training, the constant ``keep = 1 - p`` at evaluation (``lstm.py``).
    """
    return _classify(params, X, M, None, cell, num_layers, directions, drop, 0.0, gate, False)


def classify_loss(params, X, M, y, cell, num_layers, directions, drop=None, decay_c=0.0, gate=None):
    """``mean_b -log(probs_b[y_b] + 1e-8) + decay_c * sum(V ** 2)`` (float), ``lstm.py``'s cost.

    ``y`` (B,) int class labels in ``[0, K)``; ``drop`` as in :func:`classify_probs`.
    """
    return _classify(params, X, M, y, cell, num_layers, directions, drop, decay_c, gate, False)


def classify_loss_and_grads(params, X, M, y, cell, num_layers, directions, drop=None, decay_c=0.0, gate=None):
    """``(loss, grads)``: :func:`classify_loss` and its hand-written gradients (the
    ``drop`` multiplier is a constant; ``decay_c`` adds ``2 decay_c V`` to ``grads["V"]``)."""
    return _classify(params, X, M, y, cell, num_layers, directions, drop, decay_c, gate, True)
