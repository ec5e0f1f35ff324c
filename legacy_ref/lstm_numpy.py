"""A NumPy LSTM language model in the conventions of ``gru_theano.py``, hand-differentiated.

The WildML part-4 repository (dennybritz/rnn-tutorial-gru-lstm) ships an early
``lstm_theano.py`` with per-gate matrices ``U_i .. W_g`` and plain SGD; the published
article only gives the LSTM equations.  This reference puts those equations into the
GRU model's layout so that both cells share one surface: embedding ``E`` (H, C);
``U``, ``W`` (4L, H, H); ``b`` (4L, H); output ``V`` (C, H), ``c`` (C,); the same init
order (E, U, W, V; b, c zeros), ``bptt_truncate`` (Theano scan semantics) and RMSprop
``sgd_step`` (caches ``mE mU mW mb mV mc``).  Note: ``lstm_theano.py`` initialised its
forget-gate bias to ones; here all biases start at zero, as in ``gru_theano.py``.

Per time step t and layer l (``x_in`` = ``E[:, x_t]`` for l = 0, else layer l-1's new
``h``; ``h_prev``, ``c_prev`` = this layer's state at t-1, zeros at t = 0)::

    i   = g(U[4l+0] x_in + W[4l+0] h_prev + b[4l+0])   input gate
    f   = g(U[4l+1] x_in + W[4l+1] h_prev + b[4l+1])   forget gate
    o   = g(U[4l+2] x_in + W[4l+2] h_prev + b[4l+2])   output gate
    gc  = tanh(U[4l+3] x_in + W[4l+3] h_prev + b[4l+3]) candidate
    c_t = f * c_prev + i * gc
    h_t = o * tanh(c_t)
    y_t = softmax(V h_top + c)

``g`` = logistic ``"sigmoid"`` (default) or Theano's ``"hard_sigmoid"``.
"""

import numpy as np

from .common import GatedRNNBase, as_index_vector, softmax

__all__ = ["LSTMNumpy"]


class LSTMNumpy(GatedRNNBase):
    """Multi-layer LSTM language model, ``GRUNumpy``'s sibling (see module docstring).

    Parameters are as for :class:`legacy_ref.gru_numpy.GRUNumpy`, with defaults
    ``num_layers=1`` and ``gate_activation="sigmoid"``.  Slices ``4l + 0 / 1 / 2 / 3``
    of U, W, b belong to layer l's input gate / forget gate / output gate / candidate.
    ``U`` multiplies the layer input, ``W`` the previous hidden state ``h``.
    """

    gates_per_layer = 4

    def __init__(self, word_dim, hidden_dim=128, bptt_truncate=-1, num_layers=1, gate_activation="sigmoid", rng=None):
        super().__init__(word_dim, hidden_dim, bptt_truncate, num_layers, gate_activation, rng)

    def forward(self, x, initial_state=None):
        """Forward pass (equations in the module docstring; cf. ``lstm_theano.py`` ``forward_prop_step``).

        Parameters
        ----------
        x : sequence of int, length T
        initial_state : (h0, c0), each array (L, H), optional
            States entering step 0; zeros by default.

        Returns
        -------
        y : ndarray (T, C)
            Output probabilities.
        cache : dict
            ``x``; ``h`` and ``cell`` (L, T+1, H) with index 0 the initial state and
            ``t+1`` the state after step t; ``x_in`` (L, T, H); gate pre-activations
            ``ai``, ``af``, ``ao`` and values ``i``, ``f``, ``o``, ``gc``, plus
            ``tanh_c`` (each (L, T, H)).
        """
        x = as_index_vector(x, "x")
        T, H, L = len(x), self.hidden_dim, self.num_layers
        E, U, W, b, V, c = self.E, self.U, self.W, self.b, self.V, self.c
        g = self._gate
        h = np.zeros((L, T + 1, H))
        cell = np.zeros((L, T + 1, H))
        if initial_state is not None:
            h0, c0 = initial_state
            h[:, 0] = np.asarray(h0, dtype=np.float64).reshape(L, H)
            cell[:, 0] = np.asarray(c0, dtype=np.float64).reshape(L, H)
        names = ("x_in", "ai", "af", "ao", "i", "f", "o", "gc", "tanh_c")
        st = {n: np.zeros((L, T, H)) for n in names}
        y = np.zeros((T, self.word_dim))
        for t in range(T):
            inp = E[:, x[t]]
            for l in range(L):
                k = 4 * l
                h_prev, c_prev = h[l, t], cell[l, t]
                st["x_in"][l, t] = inp
                st["ai"][l, t] = U[k].dot(inp) + W[k].dot(h_prev) + b[k]
                st["af"][l, t] = U[k + 1].dot(inp) + W[k + 1].dot(h_prev) + b[k + 1]
                st["ao"][l, t] = U[k + 2].dot(inp) + W[k + 2].dot(h_prev) + b[k + 2]
                st["i"][l, t] = g(st["ai"][l, t])
                st["f"][l, t] = g(st["af"][l, t])
                st["o"][l, t] = g(st["ao"][l, t])
                st["gc"][l, t] = np.tanh(U[k + 3].dot(inp) + W[k + 3].dot(h_prev) + b[k + 3])
                cell[l, t + 1] = st["f"][l, t] * c_prev + st["i"][l, t] * st["gc"][l, t]
                st["tanh_c"][l, t] = np.tanh(cell[l, t + 1])
                h[l, t + 1] = st["o"][l, t] * st["tanh_c"][l, t]
                inp = h[l, t + 1]
            y[t] = softmax(V.dot(inp) + c)
        cache = dict(st, x=x, h=h, cell=cell, y=y)
        return y, cache

    def bptt(self, x, y):
        """Gradients ``[dE, dU, dW, db, dV, dc]`` of ``ce_error(x, y)``, hand-written.

        Same truncation rule as ``GRUNumpy.bptt`` (Theano scan semantics; steps
        ``T-1 .. truncation_start(T)`` only; no gradient into the ``h`` and ``c``
        entering the first visited step).
        """
        x, y = self._check_xy(x, y)
        probs, cache = self.forward(x)
        T, H, L = len(x), self.hidden_dim, self.num_layers
        U, W, V = self.U, self.W, self.V
        h, cell = cache["h"], cache["cell"]
        gp = self._gate_grad
        dE = np.zeros_like(self.E)
        dU = np.zeros_like(U)
        dW = np.zeros_like(W)
        db = np.zeros_like(self.b)
        dV = np.zeros_like(V)
        dc = np.zeros_like(self.c)
        dh_next = np.zeros((L, H))
        dcell_next = np.zeros((L, H))
        start = self.truncation_start(T)
        for t in range(T - 1, start - 1, -1):
            dy = probs[t].copy()
            dy[y[t]] -= 1.0
            dV += np.outer(dy, h[L - 1, t + 1])
            dc += dy
            d_from_above = V.T.dot(dy)
            for l in range(L - 1, -1, -1):
                k = 4 * l
                h_prev, c_prev = h[l, t], cell[l, t]
                it_, ft, ot, gt = cache["i"][l, t], cache["f"][l, t], cache["o"][l, t], cache["gc"][l, t]
                tc, xt = cache["tanh_c"][l, t], cache["x_in"][l, t]
                dh = d_from_above + dh_next[l]
                # h = o * tanh(c)
                do = dh * tc
                dcell = dh * ot * (1.0 - tc ** 2) + dcell_next[l]
                # c = f * c_prev + i * gc
                di = dcell * gt
                df = dcell * c_prev
                dg = dcell * it_
                dcell_next[l] = dcell * ft
                # pre-activations, in slice order i, f, o, candidate
                da = (
                    di * gp(cache["ai"][l, t]),
                    df * gp(cache["af"][l, t]),
                    do * gp(cache["ao"][l, t]),
                    dg * (1.0 - gt ** 2),
                )
                dh_prev = np.zeros(H)
                dx = np.zeros(H)
                for j in range(4):
                    dU[k + j] += np.outer(da[j], xt)
                    dW[k + j] += np.outer(da[j], h_prev)
                    db[k + j] += da[j]
                    dh_prev += W[k + j].T.dot(da[j])
                    dx += U[k + j].T.dot(da[j])
                dh_next[l] = dh_prev
                d_from_above = dx
            dE[:, x[t]] += d_from_above
        return [dE, dU, dW, db, dV, dc]
