"""Seed 002's NumPy GRU exactly as the post prints it, bugs included.

**Source.** The CSDN post reproduced in ``shared/seeds/002_*.txt`` prints the whole
model (its ``gru_model.py``) and the training script; the author's repository
tt-s-t/Deep-Learning holds the same two files under ``GRU/own/`` (``gru_model.py``,
``run_gru.py``).  This module follows the *printed* listing name by name:

* the module-level helpers :func:`sigmoid` (an element-by-element Python loop with the
  two-branch stable form) and :func:`tanh` (``(e^x - e^-x) / (e^x + e^-x)``);
* :class:`GRU` ``(input_size, hidden_size)`` with ``Wxr, Whr, B_r`` (reset gate),
  ``Wxz, Whz, B_z`` (update gate), ``Wxh, Whh, B_h`` (candidate), ``W_o, B_o``
  (output), row-vector convention (``x (1, V) @ Wx* (V, H)``), weights drawn with
  ``np.random.randn`` in that order, biases zeros;
* :meth:`GRU.forward` (stores the ``*_stack`` dictionaries, returns nothing),
  :meth:`GRU.backward` ``(target, lr)`` (BPTT over the chunk, one SGD step, returns the
  chunk's summed cross-entropy), :meth:`GRU.pre` (greedy generation; the post calls
  this step "prediction", the method is named ``pre``);
* :class:`Dataset` and :func:`run_gru`, the printed training script: text
  ``"abcdefg"`` x 12 joined by spaces, ``sequence_length = 6``, ``hidden_size = 16``,
  ``lr = 1e-4``, ``max_epoch = 5000``, ``batch_num = ceil(len(text) / 6) = 16``.

**What the printed code does (reproduced, not fixed).**

1. ``backward`` multiplies by ``Whh``, ``Whr`` and ``Whz`` where the chain rule needs
   their transposes (``Whh`` in ``dnet_R`` and in ``dH_1``; ``Whr``, ``Whz`` in ``dH_1``).
   With the row-vector forward ``net = h @ W``, the gradient with respect to ``h`` is
   ``dnet @ W.T``.  So the gradients are exact only where no such product enters:
   for a one-step chunk from a zero state every gradient is right; from a non-zero
   state the reset-gate gradients are wrong; over longer chunks everything that flows
   through ``dH_1`` is wrong.  With symmetric ``Whh, Whr, Whz`` the bug vanishes.
2. ``dW_o`` and ``dB_o`` are computed but never applied: the output layer keeps its
   random ``randn`` initial weights for the whole run.
3. ``Dataset.__getitem__(b)`` returns the window starting at character ``b`` (not
   ``b * sequence_length``), so an epoch trains on the 16 overlapping windows starting
   at characters 0..15 of the 95, each from a zero state (the script's comment says so).
4. The seed's ``lr = 1e-4`` (the repository's ``run_gru.py`` has ``lr = 1e-3``; its
   ``backward`` also has a gradient-clipping block commented out, absent from the post).

**Changes, all optional and documented.**

* ``GRU(..., rng=None)``: ``None`` draws from NumPy's global generator exactly as the
  listing does (``np.random.randn``); an ``int`` seed or a ``RandomState`` /
  ``Generator`` draws the same seven matrices in the same order from it instead (for a
  ``RandomState`` the numbers equal ``np.random.seed(s); GRU(...)``).
* ``Dataset(..., vocab=None)``: ``None`` is the listing's ``list(set(txt_data))``.
  Under Python 3 (the repository's ``.pyc`` is CPython 3.8) ``str`` hashing is salted
  per process, so that order - and with it which weight rows belong to which
  character - changes from run to run.  :func:`run_gru` therefore passes
  ``sorted(set(txt_data))`` unless ``sort_vocab=False``: the one Python-3 fix, needed for
  a run to be repeatable.
* The listing prints the loss every epoch; here :func:`run_gru` returns the per-epoch
  losses (``loss / batch_num``, the printed number) and logs through ``logging``.

No other Python-3 change was needed: the listing is Python-3 code already.

**Measured** (``scripts/reproduce_seed002.py``, 5000 epochs, seeds 0/1/2, final epoch
loss): as printed at lr 1e-4 1.92 / 1.53 / 1.45, no seed writes clean ``abcdefg abcdefg``
from ``'a'``; at lr 1e-3 0.138 / 0.111 / 0.108, two of three clean for 50 characters.
:class:`CorrectedGRU`: 0.319 / 0.325 / 0.284 (lr 1e-4), 0.017 / 0.020 / 0.017 (lr 1e-3).

:class:`CorrectedGRU` is the separately named fix: the same class with a backward
that uses the transposes and also applies ``dW_o``/``dB_o`` - nothing else changed
(init, windows, zero state per window, SGD, generation).  ``legacy_ref.char_gru.CharGRU``
is the project's older, independently written character GRU (see its docstring).
"""

import logging
import math

import numpy as np

__all__ = ["sigmoid", "tanh", "GRU", "CorrectedGRU", "Dataset", "train", "run_gru", "TXT_DATA"]

logger = logging.getLogger(__name__)

TXT_DATA = " ".join(["abcdefg"] * 12)  # the post's input: 95 characters


def sigmoid(x):
    """The listing's logistic: one Python-loop iteration per element, two stable branches."""
    x_ravel = x.ravel()
    length = len(x_ravel)
    y = []
    for index in range(length):
        if x_ravel[index] >= 0:
            y.append(1.0 / (1 + np.exp(-x_ravel[index])))
        else:
            y.append(np.exp(x_ravel[index]) / (np.exp(x_ravel[index]) + 1))
    return np.array(y).reshape(x.shape)


def tanh(x):
    """The listing's ``(exp(x) - exp(-x)) / (exp(x) + exp(-x))`` (NaN beyond |x| ~ 710)."""
    result = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
    return result


def _normal_source(rng):
    """``randn(a, b)``-like callable: the global generator (listing) or an explicit one."""
    if rng is None:
        return np.random.randn
    if isinstance(rng, (int, np.integer)):
        rng = np.random.RandomState(int(rng))
    return lambda *shape: rng.standard_normal(shape)


class GRU(object):
    """The listing's GRU (``gru_model.py``), with its backward as printed.

    ``rng`` (not in the listing): ``None`` = ``np.random.randn`` as printed; an int seed,
    ``RandomState`` or ``Generator`` = the same draws from that source.
    """

    def __init__(self, input_size, hidden_size, rng=None):
        randn = _normal_source(rng)
        self.input_size = input_size
        self.hidden_size = hidden_size
        # reset gate
        self.Wxr = randn(input_size, hidden_size)
        self.Whr = randn(hidden_size, hidden_size)
        self.B_r = np.zeros((1, hidden_size))
        # update gate
        self.Wxz = randn(input_size, hidden_size)
        self.Whz = randn(hidden_size, hidden_size)
        self.B_z = np.zeros((1, hidden_size))
        # candidate hidden state
        self.Wxh = randn(input_size, hidden_size)
        self.Whh = randn(hidden_size, hidden_size)
        self.B_h = np.zeros((1, hidden_size))
        # output
        self.W_o = randn(hidden_size, input_size)
        self.B_o = np.zeros((1, input_size))

    param_names = ("Wxr", "Whr", "B_r", "Wxz", "Whz", "B_z", "Wxh", "Whh", "B_h", "W_o", "B_o")

    def forward(self, X, Ht_1):
        """Run the chunk ``X`` (T, V one-hot rows) from state ``Ht_1`` (1, H); stores, returns None."""
        self.rt_stack = {}  # reset gates
        self.zt_stack = {}  # update gates
        self.hht_stack = {}  # candidate states
        self.X_stack = {}  # inputs
        self.Ht_stack = {}  # hidden states
        self.Y_stack = {}  # outputs

        self.Ht_stack[-1] = Ht_1
        self.T = X.shape[0]

        for t in range(self.T):
            self.X_stack[t] = X[t].reshape(-1, 1).T
            net_r = np.matmul(self.X_stack[t], self.Wxr) + np.matmul(self.Ht_stack[t - 1], self.Whr) + self.B_r
            rt = sigmoid(net_r)
            self.rt_stack[t] = rt
            net_z = np.matmul(self.X_stack[t], self.Wxz) + np.matmul(self.Ht_stack[t - 1], self.Whz) + self.B_z
            zt = sigmoid(net_z)
            self.zt_stack[t] = zt
            net_hh = np.matmul(self.X_stack[t], self.Wxh) + np.matmul(rt * self.Ht_stack[t - 1], self.Whh) + self.B_h
            hht = tanh(net_hh)
            self.hht_stack[t] = hht
            Ht = zt * self.Ht_stack[t - 1] + (1 - zt) * hht
            self.Ht_stack[t] = Ht
            Ot = np.matmul(Ht, self.W_o) + self.B_o
            Yt = np.exp(Ot) / np.sum(np.exp(Ot))  # softmax
            self.Y_stack[t] = Yt

    # The three recurrent matrices as the backward multiplies by them.  The listing
    # uses the matrices themselves; CorrectedGRU returns their transposes.
    def _back_Whh(self):
        return self.Whh

    def _back_Whr(self):
        return self.Whr

    def _back_Whz(self):
        return self.Whz

    def _apply_output_update(self, dW_o, dB_o, lr):
        """The listing computes ``dW_o``/``dB_o`` and never applies them."""

    def backward(self, target, lr):
        """BPTT over the stored chunk and one SGD step; returns the chunk's summed CE.

        As printed: ``Whh``/``Whr``/``Whz`` stand where their transposes belong, and the
        output layer is not updated.
        """
        dW_o, dB_o, dH, dH_1 = np.zeros_like(self.W_o), np.zeros_like(self.B_o), np.zeros_like(self.Ht_stack[-1]), np.zeros_like(self.Ht_stack[-1])

        dWxh, dWhh, dBh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.B_h)
        dWxr, dWhr, dBr = np.zeros_like(self.Wxr), np.zeros_like(self.Whr), np.zeros_like(self.B_r)
        dWxz, dWhz, dBz = np.zeros_like(self.Wxz), np.zeros_like(self.Whz), np.zeros_like(self.B_z)
        Whh_b, Whr_b, Whz_b = self._back_Whh(), self._back_Whr(), self._back_Whz()

        self.loss = 0

        for t in reversed(range(self.T)):
            dY = self.Y_stack[t] - target[t].reshape(-1, 1).T
            self.loss += -np.sum(np.log(self.Y_stack[t]) * target[t].reshape(-1, 1).T)
            dW_o += np.matmul(self.Ht_stack[t].T, dY)
            dB_o += dY

            dH = np.matmul(dY, self.W_o.T) + dH_1

            dnet_hht = dH * (1 - self.zt_stack[t]) * (1 - self.hht_stack[t] * self.hht_stack[t])
            dnet_Z = dH * (self.Ht_stack[t - 1] - self.hht_stack[t]) * self.zt_stack[t] * (1 - self.zt_stack[t])
            dnet_R = np.matmul(dnet_hht, Whh_b) * self.Ht_stack[t - 1] * self.rt_stack[t] * (1 - self.rt_stack[t])

            dWxh += np.matmul(self.X_stack[t].T, dnet_hht)
            dWhh += np.matmul((self.rt_stack[t] * self.Ht_stack[t - 1]).T, dnet_hht)
            dBh += dnet_hht

            dWxz += np.matmul(self.X_stack[t].T, dnet_Z)
            dWhz += np.matmul(self.Ht_stack[t - 1].T, dnet_Z)
            dBz += dnet_Z

            dWxr += np.matmul(self.X_stack[t].T, dnet_R)
            dWhr += np.matmul(self.Ht_stack[t - 1].T, dnet_R)
            dBr += dnet_R

            dH_1 = dH * self.zt_stack[t] + np.matmul(dnet_hht, Whh_b) * self.rt_stack[t] + np.matmul(dnet_R, Whr_b) + np.matmul(dnet_Z, Whz_b)

        self.Wxh += -lr * dWxh
        self.Whh += -lr * dWhh
        self.B_h += -lr * dBh
        self.Wxz += -lr * dWxz
        self.Whz += -lr * dWhz
        self.B_z += -lr * dBz
        self.Wxr += -lr * dWxr
        self.Whr += -lr * dWhr
        self.B_r += -lr * dBr
        self._apply_output_update(dW_o, dB_o, lr)

        return self.loss

    def pre(self, input_onehot, h_prev, next_len, vocab):
        """Greedy generation: ``next_len`` characters after ``input_onehot`` (1, V); ``vocab`` index -> char."""
        xs, hs = {}, {}
        hs[-1] = np.copy(h_prev)
        xs[0] = input_onehot
        pre_vocab = []
        for t in range(next_len):
            net_r = np.matmul(xs[t], self.Wxr) + np.matmul(hs[t - 1], self.Whr) + self.B_r
            rt = sigmoid(net_r)
            net_z = np.matmul(xs[t], self.Wxz) + np.matmul(hs[t - 1], self.Whz) + self.B_z
            zt = sigmoid(net_z)
            net_hh = np.matmul(xs[t], self.Wxh) + np.matmul(rt * hs[t - 1], self.Whh) + self.B_h
            hht = tanh(net_hh)
            hs[t] = zt * hs[t - 1] + (1 - zt) * hht
            Ot = np.matmul(hs[t], self.W_o) + self.B_o
            Yt = np.exp(Ot) / np.sum(np.exp(Ot))  # softmax
            pre_vocab.append(vocab[np.argmax(Yt)])

            xs[t + 1] = np.zeros((1, self.input_size))
            xs[t + 1][0, np.argmax(Yt)] = 1
        return pre_vocab


class CorrectedGRU(GRU):
    """:class:`GRU` with the two backward bugs fixed and nothing else changed.

    Corrections: (1) the gradient reaching ``h_{t-1}`` (and ``r_t * h_{t-1}``) through
    ``h @ W`` is ``dnet @ W.T``, so the backward multiplies by ``Whh.T``, ``Whr.T``,
    ``Whz.T`` where the listing has ``Whh``, ``Whr``, ``Whz``; (2) ``W_o``/``B_o`` get their
    SGD step like every other parameter.  Same init, forward, windows, learning rate and
    generation, so a comparison with :class:`GRU` isolates the effect of the two bugs.
    """

    def _back_Whh(self):
        return self.Whh.T

    def _back_Whr(self):
        return self.Whr.T

    def _back_Whz(self):
        return self.Whz.T

    def _apply_output_update(self, dW_o, dB_o, lr):
        self.W_o += -lr * dW_o
        self.B_o += -lr * dB_o


class Dataset(object):
    """The script's ``Dataset``; ``vocab`` (not in the listing) fixes the character order.

    ``vocab=None`` is the listing's ``list(set(txt_data))`` (order varies between Python
    3 processes).  ``dataset[b]`` is the window starting at character ``b``.
    """

    def __init__(self, txt_data, sequence_length, vocab=None):
        self.txt_len = len(txt_data)
        vocab = list(set(txt_data)) if vocab is None else list(vocab)
        self.n_vocab = len(vocab)
        self.sequence_length = sequence_length
        self.vocab_to_index = dict((c, i) for i, c in enumerate(vocab))
        self.index_to_vocab = dict((i, c) for i, c in enumerate(vocab))
        self.txt_index = [self.vocab_to_index[i] for i in txt_data]

    def one_hot(self, input):
        onehot_encoded = []
        for i in input:
            letter = [0 for _ in range(self.n_vocab)]
            letter[i] = 1
            onehot_encoded.append(letter)
        onehot_encoded = np.array(onehot_encoded)
        return onehot_encoded

    def __getitem__(self, index):
        return (
            self.txt_index[index:index + self.sequence_length],
            self.txt_index[index + 1:index + self.sequence_length + 1],
        )


def train(model, dataset, max_epoch, lr, log_every=None):
    """The script's training loop; returns the per-epoch loss ``loss / batch_num``.

    ``batch_num = ceil(txt_len / sequence_length)`` windows per epoch, each from a zero
    state, one ``forward`` + ``backward(target, lr)`` per window.  ``log_every`` epochs
    (``None``: never) the loss goes to ``logging`` where the listing printed every epoch.
    """
    hidden_size = model.hidden_size
    batch_num = math.ceil(dataset.txt_len / dataset.sequence_length)
    losses = []
    for epoch in range(max_epoch):
        h_prev = np.zeros((1, hidden_size))
        loss = 0
        for b in range(batch_num):
            (x, y) = dataset[b]
            input = dataset.one_hot(x)
            target = dataset.one_hot(y)
            model.forward(input, h_prev)
            loss += model.backward(target, lr)
        losses.append(loss / batch_num)
        if log_every and (epoch % log_every == 0 or epoch == max_epoch - 1):
            logger.info("epoch: %d loss: %.6f", epoch, loss / batch_num)
    return losses


def run_gru(rng=None, lr=1e-4, max_epoch=5000, sequence_length=6, hidden_size=16, next_len=50, txt_data=TXT_DATA, corrected=False, sort_vocab=True, log_every=None):
    """The printed script end to end; returns ``(model, losses, text)``.

    Defaults are the post's settings.  ``rng`` goes to :class:`GRU` (``None``: global
    generator, as printed); ``corrected=True`` uses :class:`CorrectedGRU`;
    ``sort_vocab=False`` keeps the listing's ``list(set(...))`` order.  ``text`` is
    ``'a'`` followed by ``next_len`` greedily generated characters from a zero state.
    """
    vocab = sorted(set(txt_data)) if sort_vocab else None
    dataset = Dataset(txt_data, sequence_length, vocab=vocab)
    cls = CorrectedGRU if corrected else GRU
    model = cls(dataset.n_vocab, hidden_size, rng=rng)
    losses = train(model, dataset, max_epoch, lr, log_every=log_every)
    input_txt = "a"
    input_onehot = dataset.one_hot([dataset.vocab_to_index[input_txt]])
    h_prev = np.zeros((1, hidden_size))
    pre_vocab = ["a"] + model.pre(input_onehot, h_prev, next_len, dataset.index_to_vocab)
    return model, losses, "".join(pre_vocab)
