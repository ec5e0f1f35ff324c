"""A corrected, independently written character GRU for seed 002's "abcdefg" demo.

**Provenance, corrected.** This module was written before seed 002's code was found
and its old docstring called it a reconstruction of code that "could not be found".
The code is printed in full in the post (``shared/seeds/002_*.txt``; the author's
repository tt-s-t/Deep-Learning, ``GRU/own/``) and is reproduced as published, bugs
included, in :mod:`legacy_ref.seed002_gru` (class ``GRU``; ``CorrectedGRU`` there is the
listing with only its two gradient bugs fixed).  :class:`CharGRU` is **not** the
published code and does **not** reproduce the published result by construction; it is
kept as a correct, faster character GRU (and for the code that imports it).

What :class:`CharGRU` / :func:`abcdefg_demo` change relative to the listing, and why:

* **Correct gradients.** The listing's backward multiplies by ``Whh``, ``Whr``, ``Whz``
  where their transposes belong; here every gradient is exact (checked against finite
  differences in the tests).
* **The output layer is trained.** The listing computes ``dW_o``/``dB_o`` and never
  applies them; here ``Why``/``by`` get their SGD step.
* **Init.** The listing draws ``randn`` (std 1) for ``Wxr, Whr, Wxz, Whz, Wxh, Whh,
  W_o`` in that order; here ``standard_normal * 0.1`` for ``Wxz, Whz, Wxr, Whr, Wxh, Whh,
  Why`` (a min-char-rnn-style choice, so the draws differ for the same seed).
* **Layout.** Column-vector convention ``W (H, V) @ x`` (the listing: row vectors
  ``x (1, V) @ W (V, H)``); names ``bz br bh Why by`` for ``B_z B_r B_h W_o B_o``.
* **Windows and state.** The listing's epoch is 16 overlapping windows starting at
  characters 0..15 (``dataset[b]`` slices from ``b``), each from a zero state; here an
  epoch walks the whole text in consecutive chunks of 6 with the hidden state carried
  from chunk to chunk (reset each epoch), 16 chunks covering all 94 transitions.
* **Helpers.** Vectorised ``1 / (1 + exp(-x))`` and ``np.tanh`` instead of the listing's
  per-element loop and ``(e^x - e^-x) / (e^x + e^-x)``; the softmax subtracts the max.
* **Vocabulary order** ``sorted(set(text))`` (the listing's ``list(set(text))`` order
  changes between Python 3 processes); weights from an explicit ``RandomState``.
* **Generation.** 31 characters by default (the listing: 50).

Measured with ``scripts/reproduce_seed002.py`` (see the README's seed-002 section):
the listing as printed at lr 1e-4 does not reliably write clean ``abcdefg abcdefg``;
:func:`abcdefg_demo` (5000 epochs) wrote it for seeds 0, 1, 2 at lr 1e-4 and at 1e-3.

Equations (WildML convention for which side of the interpolation z weights)::

    z_t  = sigmoid(Wxz x_t + Whz h_{t-1} + bz)          update gate
    r_t  = sigmoid(Wxr x_t + Whr h_{t-1} + br)          reset gate
    hh_t = tanh(Wxh x_t + Whh (r_t * h_{t-1}) + bh)     candidate
    h_t  = (1 - z_t) * hh_t + z_t * h_{t-1}
    p_t  = softmax(Why h_t + by)

``x_t`` is a one-hot vector over the vocabulary, really multiplied by the input weights
(not replaced by column indexing), as the description says.

Speed: :meth:`CharGRU.forward` projects the inputs of a whole chunk before the time
loop and applies the output layer after it, and :meth:`CharGRU.backward` forms the
weight gradients after its loop; only the recurrence runs step by step in Python.
That keeps the 5000-epoch demo at roughly 15 s on a 2-core CPU (about 40 s with every
product inside the loop).  :meth:`CharGRU.step` is the plain one-step form used for
generation, and the tests check that both forms agree.
"""

import logging

import numpy as np

__all__ = ["CharGRU", "abcdefg_demo", "abcdefg_text"]

logger = logging.getLogger(__name__)


def sigmoid(x):
    """Logistic ``1 / (1 + exp(-x))`` in its plain form (this model's pre-activations stay small)."""
    return 1.0 / (1.0 + np.exp(-x))


def softmax(y):
    """``exp(y - max y) / sum(...)`` of a vector (as in the tutorials' ``utils.softmax``)."""
    e = np.exp(y - y.max())
    return e / e.sum()


_PARAM_NAMES = ("Wxz", "Whz", "bz", "Wxr", "Whr", "br", "Wxh", "Whh", "bh", "Why", "by")


class CharGRU:
    """Single-layer character GRU with a softmax output and exact gradients (not the listing: see the module docstring).

    Parameters
    ----------
    vocab_size : int
        Number of distinct characters V (input one-hot size and output size).
    hidden_size : int
        Hidden size H (article: 16).
    rng : numpy.random.RandomState or Generator, optional
        Source of the initial weights; ``None`` uses the global ``np.random`` (min-char-rnn
        style).  The draws are ``Wxz, Whz, Wxr, Whr, Wxh, Whh, Why`` in that
        order, each ``standard_normal * init_scale``; biases are zeros.
    init_scale : float
        0.1 (the listing's ``randn`` has scale 1).

    Attributes: ``Wxz Wxr Wxh`` (H, V), ``Whz Whr Whh`` (H, H), ``Why`` (V, H),
    ``bz br bh`` (H,), ``by`` (V,).
    """

    param_names = _PARAM_NAMES

    def __init__(self, vocab_size, hidden_size=16, rng=None, init_scale=0.1):
        self.vocab_size = V = int(vocab_size)
        self.hidden_size = H = int(hidden_size)
        randn = np.random.standard_normal if rng is None else rng.standard_normal
        self.Wxz = randn((H, V)) * init_scale  # input -> update gate
        self.Whz = randn((H, H)) * init_scale  # hidden -> update gate
        self.Wxr = randn((H, V)) * init_scale  # input -> reset gate
        self.Whr = randn((H, H)) * init_scale  # hidden -> reset gate
        self.Wxh = randn((H, V)) * init_scale  # input -> candidate
        self.Whh = randn((H, H)) * init_scale  # (reset) hidden -> candidate
        self.Why = randn((V, H)) * init_scale  # hidden -> output
        self.bz = np.zeros(H)
        self.br = np.zeros(H)
        self.bh = np.zeros(H)
        self.by = np.zeros(V)

    def get_params(self, copy=True):
        """``dict`` name -> array, in ``param_names`` order."""
        return {n: (getattr(self, n).copy() if copy else getattr(self, n)) for n in self.param_names}

    def set_params(self, params):
        """Copy arrays from a mapping into the model (float64, shapes must match)."""
        for name, value in params.items():
            if name not in self.param_names:
                raise KeyError("unknown parameter %r" % (name,))
            value = np.array(value, dtype=np.float64)
            if value.shape != getattr(self, name).shape:
                raise ValueError("parameter %s: shape %s != %s" % (name, value.shape, getattr(self, name).shape))
            setattr(self, name, value)

    def one_hot(self, ix):
        """1-of-V encoding of character index ``ix``."""
        x = np.zeros(self.vocab_size)
        x[ix] = 1.0
        return x

    def step(self, x, h_prev):
        """One time step: returns ``(z, r, hh, h, p)`` for one-hot ``x`` and state ``h_prev``."""
        z = sigmoid(self.Wxz.dot(x) + self.Whz.dot(h_prev) + self.bz)
        r = sigmoid(self.Wxr.dot(x) + self.Whr.dot(h_prev) + self.br)
        hh = np.tanh(self.Wxh.dot(x) + self.Whh.dot(r * h_prev) + self.bh)
        h = (1.0 - z) * hh + z * h_prev
        p = softmax(self.Why.dot(h) + self.by)
        return z, r, hh, h, p

    def forward(self, inputs, targets, h_prev):
        """Forward pass over one chunk; returns ``(loss, cache)``.

        Same arithmetic as calling :meth:`step` for each character, arranged so that
        only the recurrence runs in the Python loop: the one-hot inputs ``xs`` (T, V)
        are projected by ``Wxz, Wxr, Wxh`` for all steps at once before the loop, and
        the output layer ``ps = softmax(Why h_t + by)`` runs on all steps after it.
        ``loss`` is the chunk's summed cross-entropy; ``cache`` holds ``xs``, ``zs``,
        ``rs``, ``hhs`` (T, H), ``hs`` (T + 1, H) with ``hs[t]`` the state after step t
        and ``hs[-1]`` = ``h_prev`` (the RNNLM notebook's trick), and ``ps`` (T, V).
        """
        T, H = len(inputs), self.hidden_size
        xs = np.zeros((T, self.vocab_size))
        xs[np.arange(T), inputs] = 1.0  # one-hot inputs
        xz = xs.dot(self.Wxz.T) + self.bz  # input projections of all steps
        xr = xs.dot(self.Wxr.T) + self.br
        xh = xs.dot(self.Wxh.T) + self.bh
        zs, rs, hhs = np.zeros((T, H)), np.zeros((T, H)), np.zeros((T, H))
        hs = np.zeros((T + 1, H))
        hs[-1] = h_prev
        Whz, Whr, Whh = self.Whz, self.Whr, self.Whh
        for t in range(T):
            h = hs[t - 1]
            zs[t] = z = sigmoid(xz[t] + Whz.dot(h))
            rs[t] = r = sigmoid(xr[t] + Whr.dot(h))
            hhs[t] = hh = np.tanh(xh[t] + Whh.dot(r * h))
            hs[t] = (1.0 - z) * hh + z * h
        ys = hs[:T].dot(self.Why.T) + self.by
        ps = np.exp(ys - ys.max(axis=1, keepdims=True))
        ps /= ps.sum(axis=1, keepdims=True)
        loss = -np.sum(np.log(ps[np.arange(T), targets]))
        cache = {"targets": np.asarray(targets), "xs": xs, "zs": zs, "rs": rs, "hhs": hhs, "hs": hs, "ps": ps}
        return float(loss), cache

    def backward(self, cache):
        """Full BPTT over the chunk; returns ``(grads, h_last)``.

        ``grads`` maps ``"d" + name`` (e.g. ``"dWxz"``) to the gradient of the chunk's
        summed loss; ``h_last`` is the final hidden state (carried to the next chunk).
        The loop back-propagates through the recurrence one step at a time and records
        the gradients of the pre-activations; the weight gradients are their sums of
        outer products, formed after the loop as matrix products.
        """
        xs, zs, rs, hhs, hs, ps = (cache[k] for k in ("xs", "zs", "rs", "hhs", "hs", "ps"))
        targets = cache["targets"]
        T, H = len(targets), self.hidden_size
        dys = ps.copy()
        dys[np.arange(T), targets] -= 1.0  # softmax + cross-entropy, all steps
        dh_out = dys.dot(self.Why)  # Why^T dy_t for all steps
        dz_raw, dr_raw, dhh_raw = np.zeros((T, H)), np.zeros((T, H)), np.zeros((T, H))
        dh_next = np.zeros(H)
        Whz, Whr, Whh = self.Whz, self.Whr, self.Whh
        for t in reversed(range(T)):
            dh = dh_out[t] + dh_next
            h_prev, z, r, hh = hs[t - 1], zs[t], rs[t], hhs[t]
            # h = (1 - z) * hh + z * h_prev
            dz = dh * (h_prev - hh)
            dh_prev = dh * z
            # hh = tanh(Wxh x + Whh (r * h_prev) + bh)
            dhh_raw[t] = da = dh * (1.0 - z) * (1.0 - hh * hh)
            drh = da.dot(Whh)  # Whh^T da
            dh_prev += drh * r
            # gates (logistic: sigma' = sigma (1 - sigma))
            dz_raw[t] = dzr = dz * z * (1.0 - z)
            dr_raw[t] = drr = drh * h_prev * r * (1.0 - r)
            dh_prev += dzr.dot(Whz) + drr.dot(Whr)
            dh_next = dh_prev
        h_prevs = hs[np.arange(T) - 1]  # h_{t-1} for t = 0 .. T-1 (row -1 is h_prev)
        grads = {
            "dWxz": dz_raw.T.dot(xs), "dWhz": dz_raw.T.dot(h_prevs), "dbz": dz_raw.sum(axis=0),
            "dWxr": dr_raw.T.dot(xs), "dWhr": dr_raw.T.dot(h_prevs), "dbr": dr_raw.sum(axis=0),
            "dWxh": dhh_raw.T.dot(xs), "dWhh": dhh_raw.T.dot(rs * h_prevs), "dbh": dhh_raw.sum(axis=0),
            "dWhy": dys.T.dot(hs[:T]), "dby": dys.sum(axis=0),
        }
        return grads, hs[T - 1].copy()

    def loss_and_gradients(self, inputs, targets, h_prev):
        """``(loss, grads, h_last)`` for one chunk (min-char-rnn's ``lossFun``)."""
        loss, cache = self.forward(inputs, targets, h_prev)
        grads, h_last = self.backward(cache)
        return loss, grads, h_last

    def sgd_update(self, grads, learning_rate):
        """Plain SGD: ``param -= learning_rate * dparam`` for every parameter (the listing skips W_o/B_o; this does not)."""
        for n in self.param_names:
            setattr(self, n, getattr(self, n) - learning_rate * grads["d" + n])

    def sample(self, seed_ix, n, h=None, greedy=True, rng=None):
        """Generate ``n`` character indices after ``seed_ix``; returns ``[seed_ix, ...]``.

        ``greedy=True`` takes the argmax at each step (deterministic, as the listing's ``pre``);
        otherwise draws from the softmax with ``rng.choice`` (``rng`` a RandomState or
        Generator; required, so the global generator is never used silently).
        """
        if not greedy and rng is None:
            raise ValueError("sampling (greedy=False) needs an explicit rng")
        h = np.zeros(self.hidden_size) if h is None else np.array(h, dtype=np.float64)
        ixes = [int(seed_ix)]
        ix = int(seed_ix)
        for _ in range(n):
            _, _, _, h, p = self.step(self.one_hot(ix), h)
            ix = int(np.argmax(p)) if greedy else int(rng.choice(self.vocab_size, p=p))
            ixes.append(ix)
        return ixes


def abcdefg_text(repetitions=12):
    """The demo corpus: ``"abcdefg"`` repeated, separated by single spaces."""
    return " ".join(["abcdefg"] * repetitions)


def abcdefg_demo(seed=0, epochs=5000, hidden_size=16, seq_length=6, learning_rate=1e-4, repetitions=12, sample_length=31, init_scale=0.1):
    """Train :class:`CharGRU` on ``"abcdefg abcdefg ..."`` and generate from ``"a"``.

    The article's setup made deterministic: the vocabulary is ``sorted(set(text))``
    (``set`` order is not stable across runs) and the weights come from
    ``np.random.RandomState(seed)`` passed explicitly (the global generator is not
    touched).  One epoch = one left-to-right pass over the text in chunks of
    ``seq_length`` inputs (targets shifted by one; the last chunk may be shorter), the
    hidden state reset to zeros at the start of the epoch and carried between chunks,
    one plain SGD step per chunk.

    Returns ``(model, text)`` where ``text`` is ``"a"`` followed by
    ``sample_length`` greedily generated characters (starting from a zero state).
    """
    data = abcdefg_text(repetitions)
    chars = sorted(set(data))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    encoded = [char_to_ix[ch] for ch in data]
    rng = np.random.RandomState(seed)
    model = CharGRU(len(chars), hidden_size, rng=rng, init_scale=init_scale)
    model.char_to_ix, model.ix_to_char = char_to_ix, ix_to_char
    n_transitions = len(encoded) - 1
    for epoch in range(epochs):
        h = np.zeros(hidden_size)
        epoch_loss = 0.0
        for p in range(0, n_transitions, seq_length):
            inputs = encoded[p:min(p + seq_length, n_transitions)]
            targets = encoded[p + 1:min(p + seq_length, n_transitions) + 1]
            loss, grads, h = model.loss_and_gradients(inputs, targets, h)
            model.sgd_update(grads, learning_rate)
            epoch_loss += loss
        if epoch % 500 == 0 or epoch == epochs - 1:
            logger.info("epoch %d: loss per char %.4f", epoch, epoch_loss / n_transitions)
    ixes = model.sample(char_to_ix["a"], sample_length)
    return model, "".join(ix_to_char[i] for i in ixes)
