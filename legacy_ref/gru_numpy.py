"""The WildML part-4 GRU language model (``gru_theano.py``) in NumPy, hand-differentiated.

Source: dennybritz/rnn-tutorial-gru-lstm, ``gru_theano.py`` (class ``GRUTheano``: word
embedding ``E``, two stacked GRU layers, ``hard_sigmoid`` gates, softmax output,
RMSprop ``sgd_step``), generalised to ``num_layers`` layers and a choice of gate
activation.  ``bptt`` is a hand-written backward pass (no autodiff) with Theano
``scan(truncate_gradient=bptt_truncate)`` semantics.

Per time step t and layer l (``x_in`` = ``E[:, x_t]`` for l = 0, else layer l-1's new
state; ``s_prev`` = this layer's state at t-1, zeros at t = 0)::

    z    = g(U[3l+0] x_in + W[3l+0] s_prev + b[3l+0])           update gate
    r    = g(U[3l+1] x_in + W[3l+1] s_prev + b[3l+1])           reset gate
    cand = tanh(U[3l+2] x_in + W[3l+2] (s_prev * r) + b[3l+2])  candidate
    s    = (1 - z) * cand + z * s_prev
    o_t  = softmax(V s_top + c)

with ``g`` = ``hard_sigmoid`` (Theano's ``clip(0.2 x + 0.5, 0, 1)``, the tutorial's
choice) or ``"sigmoid"`` (logistic).
"""

import numpy as np

from .common import GatedRNNBase, as_index_vector, hard_sigmoid, softmax

__all__ = ["GRUNumpy", "hard_sigmoid"]


class GRUNumpy(GatedRNNBase):
    """NumPy twin of ``GRUTheano`` (``gru_theano.py``, ``GRUTheano.__init__``).

    Parameters
    ----------
    word_dim : int
        Vocabulary size C.
    hidden_dim : int
        Hidden (and embedding) size H; tutorial default 128.
    bptt_truncate : int
        Theano ``truncate_gradient``: back-propagate through the last k steps only;
        ``-1`` (tutorial default) or any ``k <= 0`` means full BPTT.
    num_layers : int
        Stacked GRU layers L (the tutorial hard-codes 2).
    gate_activation : {"hard_sigmoid", "sigmoid"}
        Nonlinearity of the z and r gates (tutorial: ``T.nnet.hard_sigmoid``).
    rng : numpy.random.RandomState or Generator, optional
        ``None`` draws from the global ``np.random`` like the tutorial.

    Attributes: ``E`` (H, C), ``U`` and ``W`` (3L, H, H), ``b`` (3L, H), ``V`` (C, H),
    ``c`` (C,), RMSprop caches ``mE mU mW mb mV mc`` of the same shapes.  Slice
    ``3l + 0 / 1 / 2`` of U, W, b belongs to layer l's z gate / r gate / candidate.
    """

    gates_per_layer = 3

    def __init__(self, word_dim, hidden_dim=128, bptt_truncate=-1, num_layers=2, gate_activation="hard_sigmoid", rng=None):
        super().__init__(word_dim, hidden_dim, bptt_truncate, num_layers, gate_activation, rng)

    def forward(self, x, initial_state=None):
        """Forward pass (``gru_theano.py``, ``forward_prop_step`` under ``theano.scan``).

        Parameters
        ----------
        x : sequence of int, length T
        initial_state : array (L, H), optional
            Per-layer states entering step 0 (zeros by default, as in the tutorial).

        Returns
        -------
        o : ndarray (T, C)
            Output probabilities.
        cache : dict
            Intermediates for :meth:`bptt`: ``x``; ``s`` (L, T+1, H) with ``s[l, 0]``
            the initial state and ``s[l, t+1]`` the state after step t; ``x_in``
            (L, T, H); gate pre-activations ``az``, ``ar`` and values ``z``, ``r``,
            ``cand`` (each (L, T, H)).  ``s[:, -1]`` is the final state.
        """
        x = as_index_vector(x, "x")
        T, H, L = len(x), self.hidden_dim, self.num_layers
        E, U, W, b, V, c = self.E, self.U, self.W, self.b, self.V, self.c
        g = self._gate
        s = np.zeros((L, T + 1, H))
        if initial_state is not None:
            s[:, 0] = np.asarray(initial_state, dtype=np.float64).reshape(L, H)
        x_in = np.zeros((L, T, H))
        az = np.zeros((L, T, H))
        ar = np.zeros((L, T, H))
        z = np.zeros((L, T, H))
        r = np.zeros((L, T, H))
        cand = np.zeros((L, T, H))
        o = np.zeros((T, self.word_dim))
        for t in range(T):
            inp = E[:, x[t]]  # word embedding layer
            for l in range(L):
                k = 3 * l
                s_prev = s[l, t]
                x_in[l, t] = inp
                az[l, t] = U[k].dot(inp) + W[k].dot(s_prev) + b[k]
                ar[l, t] = U[k + 1].dot(inp) + W[k + 1].dot(s_prev) + b[k + 1]
                z[l, t] = g(az[l, t])
                r[l, t] = g(ar[l, t])
                cand[l, t] = np.tanh(U[k + 2].dot(inp) + W[k + 2].dot(s_prev * r[l, t]) + b[k + 2])
                s[l, t + 1] = (1.0 - z[l, t]) * cand[l, t] + z[l, t] * s_prev
                inp = s[l, t + 1]
            o[t] = softmax(V.dot(inp) + c)
        cache = {"x": x, "s": s, "x_in": x_in, "az": az, "ar": ar, "z": z, "r": r, "cand": cand, "o": o}
        return o, cache

    def bptt(self, x, y):
        """Gradients ``[dE, dU, dW, db, dV, dc]`` of ``ce_error(x, y)`` (``gru_theano.py``, ``self.bptt``).

        Hand-written reverse pass over steps ``T-1 .. truncation_start(T)`` (Theano
        ``truncate_gradient`` semantics: with ``0 < k < T`` only the last k steps are
        visited, so outputs before ``T - k`` contribute nothing, not even to ``V`` and
        ``c``, and no gradient flows into the states entering step ``T - k``).
        """
        x, y = self._check_xy(x, y)
        o, cache = self.forward(x)
        T, H, L = len(x), self.hidden_dim, self.num_layers
        U, W, V = self.U, self.W, self.V
        s, x_in, az, ar = cache["s"], cache["x_in"], cache["az"], cache["ar"]
        z, r, cand = cache["z"], cache["r"], cache["cand"]
        gp = self._gate_grad
        dE = np.zeros_like(self.E)
        dU = np.zeros_like(U)
        dW = np.zeros_like(W)
        db = np.zeros_like(self.b)
        dV = np.zeros_like(V)
        dc = np.zeros_like(self.c)
        ds_next = np.zeros((L, H))  # dLoss/ds[l, t] arriving from step t + 1
        start = self.truncation_start(T)
        for t in range(T - 1, start - 1, -1):
            do = o[t].copy()
            do[y[t]] -= 1.0  # d CE / d (V s + c) for softmax + cross-entropy
            s_top = s[L - 1, t + 1]
            dV += np.outer(do, s_top)
            dc += do
            d_from_above = V.T.dot(do)
            for l in range(L - 1, -1, -1):
                k = 3 * l
                s_prev = s[l, t]
                zt, rt, ct, xt = z[l, t], r[l, t], cand[l, t], x_in[l, t]
                ds = d_from_above + ds_next[l]
                # s = (1 - z) * cand + z * s_prev
                dcand = ds * (1.0 - zt)
                dz = ds * (s_prev - ct)
                ds_prev = ds * zt
                # cand = tanh(U2 x + W2 (s_prev * r) + b2)
                dac = dcand * (1.0 - ct ** 2)
                sr = s_prev * rt
                dU[k + 2] += np.outer(dac, xt)
                dW[k + 2] += np.outer(dac, sr)
                db[k + 2] += dac
                dsr = W[k + 2].T.dot(dac)
                ds_prev += dsr * rt
                dr = dsr * s_prev
                dx = U[k + 2].T.dot(dac)
                # gates
                daz = dz * gp(az[l, t])
                dar = dr * gp(ar[l, t])
                dU[k] += np.outer(daz, xt)
                dW[k] += np.outer(daz, s_prev)
                db[k] += daz
                dU[k + 1] += np.outer(dar, xt)
                dW[k + 1] += np.outer(dar, s_prev)
                db[k + 1] += dar
                ds_prev += W[k].T.dot(daz) + W[k + 1].T.dot(dar)
                dx += U[k].T.dot(daz) + U[k + 1].T.dot(dar)
                ds_next[l] = ds_prev
                d_from_above = dx
            dE[:, x[t]] += d_from_above  # x_e = E[:, x_t]
        return [dE, dU, dW, db, dV, dc]
