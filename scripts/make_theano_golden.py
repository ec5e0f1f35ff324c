#!/usr/bin/env python3
"""Write golden results from the real Theano 1.0.5 into ``tests/golden/``.

Run INSIDE the environment built by ``scripts/make_theano_env.py`` (Python 3.11,
Theano 1.0.5, NumPy 1.23.5); it imports only NumPy, Theano and the standard
library -- never ``theano_rnn`` -- and reads the corpus itself::

    . VENV/theano_env.sh
    python scripts/make_theano_golden.py [--out tests/golden] [--data DIR]
                                         [--trained-model trained-model-theano.npz]

The models are written here in the tutorials' Theano style (their equations
and graph structure, in the port's parameter layout and draw order):

* ``RNNTheano`` (WildML part 2, ``rnn_theano.py``): ``U[:, x_t]``,
  ``T.nnet.softmax``, ``theano.scan(truncate_gradient=bptt_truncate)``; SGD;
  ``bptt_truncate`` 4 and -1.
* ``GRUTheano`` (part 4, ``gru_theano.py``): embedding E, two GRU layers with
  ``T.nnet.hard_sigmoid``, RMSprop with caches mE mU mW mV mb mc.
* ``LSTMTheano``: one LSTM layer in the same style (blocks i, f, o, g;
  ``T.nnet.sigmoid`` gates), same RMSprop.
* gwtaylor's Elman ``RNN`` + ``MetaRNN.fit`` loop (momentum, givens), with
  real, binary and softmax outputs: a 20-update trajectory.

Dataset: the first 300 sentences of 4-12 tokens of Tiny Shakespeare
(lower-cased, words and punctuation), a vocabulary of the 199 most frequent
tokens + UNKNOWN_TOKEN (SENTENCE_START/END counted, as in the tutorial), the
token arrays stored in ``dataset.npz``.  Hidden size 16;
``np.random.seed(10)`` before each model's construction.

Every precision (float64, float32) runs in its own process (Theano reads
``floatX`` once) with ``THEANO_FLAGS``' floatX replaced.  Each ``.npz`` holds
a JSON ``meta`` string: versions of Theano, NumPy, SciPy, Python, the BLAS
ldflags and the .so, the flags, and the settings used.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import platform
import re
import subprocess
import sys

import numpy as np

VOCAB = 200
N_SENT = 300
MIN_TOK, MAX_TOK = 4, 12
HIDDEN = 16
SEED = 10
RNN_LR = 0.005
GATED_LR = 0.001
DECAY = 0.9
NEPOCH = 3
PRECISIONS = ("float64", "float32")
WORD_MODELS = ("rnn_t4", "rnn_full", "gru", "lstm")
ELMAN_OUTPUTS = ("real", "binary", "softmax")
TRAINED_SENTENCE = [0, 7, 42, 101, 999, 3, 1]  # fixed indices for the shipped model

# -------------------------------------------------------------------------
# dataset (numpy + stdlib only)
# -------------------------------------------------------------------------
START, END, UNK = "SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN"


def tokenize_corpus(text):
    """Sentences (split after . ! ?) as lists of lower-case words/punctuation."""
    text = text.lower()
    sents = []
    for raw in re.split(r"(?<=[.!?])\s+", text):
        toks = re.findall(r"[a-z']+|[.,!?;:]", raw)
        if toks:
            sents.append([START] + toks + [END])
    return sents


def build_dataset(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    sents = tokenize_corpus(text)
    freq = collections.Counter(t for s in sents for t in s)
    index_to_word = [w for w, _ in freq.most_common(VOCAB - 1)] + [UNK]
    w2i = {w: i for i, w in enumerate(index_to_word)}
    chosen = [s for s in sents if MIN_TOK + 2 <= len(s) <= MAX_TOK + 2][:N_SENT]
    idx = [[w2i.get(t, w2i[UNK]) for t in s] for s in chosen]
    tokens = np.concatenate([np.asarray(s, dtype=np.int32) for s in idx])
    offsets = np.cumsum([0] + [len(s) for s in idx]).astype(np.int64)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return tokens, offsets, index_to_word, digest, len(text.encode("utf-8"))


def split_xy(tokens, offsets):
    X, Y = [], []
    for a, b in zip(offsets[:-1], offsets[1:]):
        s = tokens[a:b]
        X.append(s[:-1].astype(np.int32))
        Y.append(s[1:].astype(np.int32))
    return X, Y


def probe_index(X, longer_than=4):
    """The first sentence with more than ``longer_than + 4`` inputs."""
    return next(i for i, x in enumerate(X) if len(x) > longer_than + 4)


# -------------------------------------------------------------------------
# Theano models in the tutorials' style
# -------------------------------------------------------------------------
def tutorial_models():
    import theano
    import theano.tensor as T

    floatX = theano.config.floatX

    def shared(name, value):
        return theano.shared(name=name, value=np.asarray(value).astype(floatX))

    class RNNTheano:
        """WildML part 2's rnn_theano.py (parameters U, V, W; draw order U, V, W)."""

        names = ("U", "V", "W")
        caches = ()

        def __init__(self, word_dim, hidden_dim=100, bptt_truncate=4):
            self.word_dim, self.hidden_dim, self.bptt_truncate = word_dim, hidden_dim, bptt_truncate
            U = np.random.uniform(-np.sqrt(1. / word_dim), np.sqrt(1. / word_dim), (hidden_dim, word_dim))
            V = np.random.uniform(-np.sqrt(1. / hidden_dim), np.sqrt(1. / hidden_dim), (word_dim, hidden_dim))
            W = np.random.uniform(-np.sqrt(1. / hidden_dim), np.sqrt(1. / hidden_dim), (hidden_dim, hidden_dim))
            self.U, self.V, self.W = shared("U", U), shared("V", V), shared("W", W)
            self.__theano_build__()

        def __theano_build__(self):
            U, V, W = self.U, self.V, self.W
            x = T.ivector("x")
            y = T.ivector("y")

            def forward_prop_step(x_t, s_t_prev, U, V, W):
                s_t = T.tanh(U[:, x_t] + W.dot(s_t_prev))
                o_t = T.nnet.softmax(V.dot(s_t))
                return [o_t[0], s_t]

            [o, s], updates = theano.scan(
                forward_prop_step, sequences=x,
                outputs_info=[None, dict(initial=T.zeros(self.hidden_dim))],
                non_sequences=[U, V, W], truncate_gradient=self.bptt_truncate, strict=True)
            o_error = T.sum(T.nnet.categorical_crossentropy(o, y))
            dU, dV, dW = T.grad(o_error, U), T.grad(o_error, V), T.grad(o_error, W)
            self.forward_propagation = theano.function([x], o)
            self.ce_error = theano.function([x, y], o_error)
            self.bptt = theano.function([x, y], [dU, dV, dW])
            learning_rate = T.scalar("learning_rate")
            self.sgd_step = theano.function(
                [x, y, learning_rate], [],
                updates=[(self.U, self.U - learning_rate * dU),
                         (self.V, self.V - learning_rate * dV),
                         (self.W, self.W - learning_rate * dW)])

        def calculate_total_loss(self, X, Y):
            return np.sum([self.ce_error(x, y) for x, y in zip(X, Y)])

        def calculate_loss(self, X, Y):
            num_words = np.sum([len(y) for y in Y])
            return self.calculate_total_loss(X, Y) / float(num_words)

    class GatedTheano:
        """Shared by GRUTheano/LSTMTheano: part 4's E, U, W, V, b, c and RMSprop."""

        names = ("E", "U", "W", "b", "V", "c")  # bptt order
        caches = ("mE", "mU", "mW", "mV", "mb", "mc")
        blocks = 0

        def __init__(self, word_dim, hidden_dim=128, bptt_truncate=-1):
            self.word_dim, self.hidden_dim, self.bptt_truncate = word_dim, hidden_dim, bptt_truncate
            n = self.blocks
            E = np.random.uniform(-np.sqrt(1. / word_dim), np.sqrt(1. / word_dim), (hidden_dim, word_dim))
            U = np.random.uniform(-np.sqrt(1. / hidden_dim), np.sqrt(1. / hidden_dim), (n, hidden_dim, hidden_dim))
            W = np.random.uniform(-np.sqrt(1. / hidden_dim), np.sqrt(1. / hidden_dim), (n, hidden_dim, hidden_dim))
            V = np.random.uniform(-np.sqrt(1. / hidden_dim), np.sqrt(1. / hidden_dim), (word_dim, hidden_dim))
            b = np.zeros((n, hidden_dim))
            c = np.zeros(word_dim)
            for name, value in (("E", E), ("U", U), ("W", W), ("V", V), ("b", b), ("c", c)):
                setattr(self, name, shared(name, value))
                setattr(self, "m" + name, shared("m" + name, np.zeros(value.shape)))
            self.__theano_build__()

        def __theano_build__(self):
            E, V, U, W, b, c = self.E, self.V, self.U, self.W, self.b, self.c
            x = T.ivector("x")
            y = T.ivector("y")
            H = self.hidden_dim
            outputs_info = [None] + [dict(initial=T.zeros(H)) for _ in range(self.n_states)]
            results, updates = theano.scan(
                self.forward_prop_step, sequences=x, truncate_gradient=self.bptt_truncate,
                outputs_info=outputs_info)
            o = results[0]
            o_error = T.sum(T.nnet.categorical_crossentropy(o, y))
            cost = o_error
            dE, dU, dW = T.grad(cost, E), T.grad(cost, U), T.grad(cost, W)
            db, dV, dc = T.grad(cost, b), T.grad(cost, V), T.grad(cost, c)
            self.predict = theano.function([x], o)
            self.forward_propagation = self.predict
            self.ce_error = theano.function([x, y], cost)
            self.bptt = theano.function([x, y], [dE, dU, dW, db, dV, dc])
            learning_rate = T.scalar("learning_rate")
            decay = T.scalar("decay")
            mE = decay * self.mE + (1 - decay) * dE ** 2
            mU = decay * self.mU + (1 - decay) * dU ** 2
            mW = decay * self.mW + (1 - decay) * dW ** 2
            mV = decay * self.mV + (1 - decay) * dV ** 2
            mb = decay * self.mb + (1 - decay) * db ** 2
            mc = decay * self.mc + (1 - decay) * dc ** 2
            self.sgd_step = theano.function(
                [x, y, learning_rate, theano.In(decay, value=0.9)], [],
                updates=[(E, E - learning_rate * dE / T.sqrt(mE + 1e-6)),
                         (U, U - learning_rate * dU / T.sqrt(mU + 1e-6)),
                         (W, W - learning_rate * dW / T.sqrt(mW + 1e-6)),
                         (V, V - learning_rate * dV / T.sqrt(mV + 1e-6)),
                         (b, b - learning_rate * db / T.sqrt(mb + 1e-6)),
                         (c, c - learning_rate * dc / T.sqrt(mc + 1e-6)),
                         (self.mE, mE), (self.mU, mU), (self.mW, mW),
                         (self.mV, mV), (self.mb, mb), (self.mc, mc)])

        def calculate_total_loss(self, X, Y):
            return np.sum([self.ce_error(x, y) for x, y in zip(X, Y)])

        def calculate_loss(self, X, Y):
            num_words = np.sum([len(y) for y in Y])
            return self.calculate_total_loss(X, Y) / float(num_words)

    class GRUTheano(GatedTheano):
        """gru_theano.py: two GRU layers, hard_sigmoid gates."""

        blocks, n_states = 6, 2

        def forward_prop_step(self, x_t, s_t1_prev, s_t2_prev):
            E, V, U, W, b, c = self.E, self.V, self.U, self.W, self.b, self.c
            x_e = E[:, x_t]
            z_t1 = T.nnet.hard_sigmoid(U[0].dot(x_e) + W[0].dot(s_t1_prev) + b[0])
            r_t1 = T.nnet.hard_sigmoid(U[1].dot(x_e) + W[1].dot(s_t1_prev) + b[1])
            c_t1 = T.tanh(U[2].dot(x_e) + W[2].dot(s_t1_prev * r_t1) + b[2])
            s_t1 = (T.ones_like(z_t1) - z_t1) * c_t1 + z_t1 * s_t1_prev
            z_t2 = T.nnet.hard_sigmoid(U[3].dot(s_t1) + W[3].dot(s_t2_prev) + b[3])
            r_t2 = T.nnet.hard_sigmoid(U[4].dot(s_t1) + W[4].dot(s_t2_prev) + b[4])
            c_t2 = T.tanh(U[5].dot(s_t1) + W[5].dot(s_t2_prev * r_t2) + b[5])
            s_t2 = (T.ones_like(z_t2) - z_t2) * c_t2 + z_t2 * s_t2_prev
            o_t = T.nnet.softmax(V.dot(s_t2) + c)[0]
            return [o_t, s_t1, s_t2]

    class LSTMTheano(GatedTheano):
        """One LSTM layer in gru_theano.py's style: blocks i, f, o, g; sigmoid gates."""

        blocks, n_states = 4, 2

        def forward_prop_step(self, x_t, h_prev, c_prev):
            E, V, U, W, b, c = self.E, self.V, self.U, self.W, self.b, self.c
            x_e = E[:, x_t]
            i_t = T.nnet.sigmoid(U[0].dot(x_e) + W[0].dot(h_prev) + b[0])
            f_t = T.nnet.sigmoid(U[1].dot(x_e) + W[1].dot(h_prev) + b[1])
            o_gate = T.nnet.sigmoid(U[2].dot(x_e) + W[2].dot(h_prev) + b[2])
            g_t = T.tanh(U[3].dot(x_e) + W[3].dot(h_prev) + b[3])
            c_t = f_t * c_prev + i_t * g_t
            h_t = o_gate * T.tanh(c_t)
            o_t = T.nnet.softmax(V.dot(h_t) + c)[0]
            return [o_t, h_t, c_t]

    return RNNTheano, GRUTheano, LSTMTheano


def elman_classes():
    """gwtaylor's RNN and the body of MetaRNN.fit (no scikit-learn, no pickles)."""
    import theano
    import theano.tensor as T

    floatX = theano.config.floatX
    mode = theano.Mode(linker="cvm")

    class RNN:
        def __init__(self, input, n_in, n_hidden, n_out, activation=T.tanh, output_type="real"):
            self.input, self.activation, self.output_type = input, activation, output_type
            W_init = np.asarray(np.random.uniform(size=(n_hidden, n_hidden), low=-.01, high=.01), dtype=floatX)
            self.W = theano.shared(value=W_init, name="W")
            W_in_init = np.asarray(np.random.uniform(size=(n_in, n_hidden), low=-.01, high=.01), dtype=floatX)
            self.W_in = theano.shared(value=W_in_init, name="W_in")
            W_out_init = np.asarray(np.random.uniform(size=(n_hidden, n_out), low=-.01, high=.01), dtype=floatX)
            self.W_out = theano.shared(value=W_out_init, name="W_out")
            self.h0 = theano.shared(value=np.zeros((n_hidden,), dtype=floatX), name="h0")
            self.bh = theano.shared(value=np.zeros((n_hidden,), dtype=floatX), name="bh")
            self.by = theano.shared(value=np.zeros((n_out,), dtype=floatX), name="by")
            self.params = [self.W, self.W_in, self.W_out, self.h0, self.bh, self.by]
            self.updates = {}
            for param in self.params:
                init = np.zeros(param.get_value(borrow=True).shape, dtype=floatX)
                self.updates[param] = theano.shared(init)

            def step(x_t, h_tm1):
                h_t = self.activation(T.dot(x_t, self.W_in) + T.dot(h_tm1, self.W) + self.bh)
                y_t = T.dot(h_t, self.W_out) + self.by
                return h_t, y_t

            [self.h, self.y_pred], _ = theano.scan(step, sequences=self.input, outputs_info=[self.h0, None])
            self.L1 = 0
            self.L1 += abs(self.W.sum())
            self.L1 += abs(self.W_in.sum())
            self.L1 += abs(self.W_out.sum())
            self.L2_sqr = 0
            self.L2_sqr += (self.W ** 2).sum()
            self.L2_sqr += (self.W_in ** 2).sum()
            self.L2_sqr += (self.W_out ** 2).sum()
            if output_type == "real":
                self.loss = lambda y: T.mean((self.y_pred - y) ** 2)
            elif output_type == "binary":
                self.p_y_given_x = T.nnet.sigmoid(self.y_pred)
                self.loss = lambda y: T.mean(T.nnet.binary_crossentropy(self.p_y_given_x, y))
            else:
                self.p_y_given_x = T.nnet.softmax(self.y_pred)
                self.loss = lambda y: -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def run_meta(cfg, X, Y):
        """MetaRNN(**cfg) built after np.random.seed(SEED), then his fit loop
        with validation_frequency=1 (mean train loss after every update)."""
        np.random.seed(SEED)
        x = T.matrix()
        out = cfg["output_type"]
        if out == "real":
            y = T.matrix(name="y", dtype=floatX)
        elif out == "binary":
            y = T.matrix(name="y", dtype="int32")
        else:
            y = T.vector(name="y", dtype="int32")
        rnn = RNN(x, cfg["n_in"], cfg["n_hidden"], cfg["n_out"], T.tanh, out)
        init = [p.get_value() for p in rnn.params]
        train_set_x = theano.shared(np.asarray(X, dtype=floatX))
        train_set_y = theano.shared(np.asarray(Y, dtype=floatX))
        if out != "real":
            train_set_y = T.cast(train_set_y, "int32")
        index = T.lscalar("index")
        l_r = T.scalar("l_r", dtype=floatX)
        mom = T.scalar("mom", dtype=floatX)
        cost = rnn.loss(y) + cfg["L1_reg"] * rnn.L1 + cfg["L2_reg"] * rnn.L2_sqr
        givens = {x: train_set_x[index], y: train_set_y[index]}
        compute_train_error = theano.function([index], rnn.loss(y), givens=givens, mode=mode)
        gparams = [T.grad(cost, p) for p in rnn.params]
        probe = theano.function([index], [cost] + gparams, givens=givens, mode=mode)
        probe_out = probe(0)
        updates = collections.OrderedDict()
        for param, gparam in zip(rnn.params, gparams):
            weight_update = rnn.updates[param]
            upd = mom * weight_update - l_r * gparam
            updates[weight_update] = upd
            updates[param] = param + upd
        train_model = theano.function([index, l_r, mom], cost, updates=updates, givens=givens, mode=mode)
        n_train = len(X)
        lr = float(cfg["learning_rate"])
        costs, history = [], []
        epoch = 0
        while epoch < cfg["n_epochs"]:
            epoch += 1
            for idx in range(n_train):
                effective_momentum = (cfg["final_momentum"] if epoch > cfg["momentum_switchover"]
                                      else cfg["initial_momentum"])
                costs.append(float(train_model(idx, lr, effective_momentum)))
                history.append(float(np.mean([compute_train_error(i) for i in range(n_train)])))
            lr *= cfg["learning_rate_decay"]
        names = [p.name for p in rnn.params]
        data = {f"init/{n}": v for n, v in zip(names, init)}
        data["probe/cost"] = np.asarray(probe_out[0])
        data.update({f"probe/grad/{n}": g for n, g in zip(names, probe_out[1:])})
        data["train/costs"] = np.asarray(costs)
        data["train/history"] = np.asarray(history)
        data.update({f"final/{n}": p.get_value() for n, p in zip(names, rnn.params)})
        data.update({f"final/v_{n}": rnn.updates[p].get_value() for n, p in zip(names, rnn.params)})
        return data

    return run_meta


def elman_data(output_type, rng):
    """gwtaylor's test_real / test_binary / test_softmax style sequences."""
    n_seq, n_steps, n_in = 5, 10, 5
    seq = rng.randn(n_seq, n_steps, n_in)
    if output_type == "real":
        targets = np.zeros((n_seq, n_steps, 3))
        targets[:, 1:, 0] = seq[:, :-1, 3]
        targets[:, 1:, 1] = seq[:, :-1, 2]
        targets[:, 2:, 2] = seq[:, :-2, 0]
        targets += 0.01 * rng.standard_normal(targets.shape)
    elif output_type == "binary":
        targets = np.zeros((n_seq, n_steps, 2), dtype=np.int32)
        targets[:, 2:, 0] = (seq[:, 1:-1, 3] > seq[:, :-2, 0]).astype(np.int32)
        targets[:, 2:, 1] = (seq[:, 1:-1, 2] > seq[:, :-2, 1]).astype(np.int32)
    else:
        targets = np.zeros((n_seq, n_steps), dtype=np.int32)
        thresh = 0.5
        targets[:, 2:][seq[:, 1:-1, 3] > seq[:, :-2, 0] + thresh] = 1
        targets[:, 2:][seq[:, 1:-1, 3] < seq[:, :-2, 0] - thresh] = 2
    n_out = {"real": 3, "binary": 2, "softmax": 3}[output_type]
    return seq, targets, n_out


ELMAN_CFG = dict(n_in=5, n_hidden=8, learning_rate=0.05, n_epochs=4, L1_reg=1e-3, L2_reg=1e-3,
                 learning_rate_decay=0.95, final_momentum=0.9, initial_momentum=0.5,
                 momentum_switchover=2)


# -------------------------------------------------------------------------
# runs
# -------------------------------------------------------------------------
def word_run(kind, X, Y):
    RNNTheano, GRUTheano, LSTMTheano = tutorial_models()
    C = VOCAB
    np.random.seed(SEED)
    if kind == "rnn_t4":
        model, lr, truncate = RNNTheano(C, HIDDEN, 4), RNN_LR, 4
    elif kind == "rnn_full":
        model, lr, truncate = RNNTheano(C, HIDDEN, -1), RNN_LR, -1
    elif kind == "gru":
        model, lr, truncate = GRUTheano(C, HIDDEN, -1), GATED_LR, -1
    else:
        model, lr, truncate = LSTMTheano(C, HIDDEN, -1), GATED_LR, -1
    names, caches = model.names, model.caches
    init = {n: getattr(model, n).get_value() for n in names}
    i = probe_index(X)
    x, y = X[i], Y[i]
    data = {f"init/{n}": v for n, v in init.items()}
    data["probe/index"] = np.asarray(i)
    data["probe/probs"] = np.asarray(model.forward_propagation(x))
    data["probe/ce_error"] = np.asarray(model.ce_error(x, y))
    data.update({f"probe/grad/{n}": g for n, g in zip(names, model.bptt(x, y))})
    step_args = () if not caches else (DECAY,)
    model.sgd_step(x, y, lr, *step_args)
    data.update({f"step/{n}": getattr(model, n).get_value() for n in names})
    data.update({f"step/{m}": getattr(model, m).get_value() for m in caches})

    # back to the initial state, then the 3-epoch curve
    for n in names:
        getattr(model, n).set_value(init[n])
    for m in caches:
        getattr(model, m).set_value(np.zeros_like(getattr(model, m).get_value()))
    losses, rates = [], []
    num_examples_seen = 0
    learning_rate = lr
    for epoch in range(NEPOCH):  # train_with_sgd(evaluate_loss_after=1)
        loss = model.calculate_loss(X, Y)
        losses.append((num_examples_seen, loss))
        if not caches and len(losses) > 1 and losses[-1][1] > losses[-2][1]:
            learning_rate = learning_rate * 0.5
        rates.append(learning_rate)
        for k in range(len(Y)):
            model.sgd_step(X[k], Y[k], learning_rate, *step_args)
            num_examples_seen += 1
    data["curve/losses"] = np.asarray(losses, dtype=np.float64)
    data["curve/learning_rates"] = np.asarray(rates)
    data["curve/final_loss"] = np.asarray(model.calculate_loss(X, Y))
    data.update({f"final/{n}": getattr(model, n).get_value() for n in names})
    data.update({f"final/{m}": getattr(model, m).get_value() for m in caches})
    settings = dict(model=kind, word_dim=C, hidden_dim=HIDDEN, bptt_truncate=truncate,
                    learning_rate=lr, decay=DECAY if caches else None, nepoch=NEPOCH,
                    evaluate_loss_after=1, lr_halving=not caches, seed=SEED,
                    names=list(names), caches=list(caches))
    return data, settings


def trained_run(path):
    RNNTheano = tutorial_models()[0]
    raw = np.load(path)
    U, V, W = raw["U"], raw["V"], raw["W"]
    np.random.seed(SEED)
    model = RNNTheano(U.shape[1], U.shape[0], 4)
    model.U.set_value(U.astype(model.U.dtype))
    model.V.set_value(V.astype(model.V.dtype))
    model.W.set_value(W.astype(model.W.dtype))
    x = np.asarray(TRAINED_SENTENCE[:-1], dtype=np.int32)
    y = np.asarray(TRAINED_SENTENCE[1:], dtype=np.int32)
    probs = np.asarray(model.forward_propagation(x))
    rows = [0, len(x) // 2, len(x) - 1]
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    data = {
        "x": x, "y": y, "rows": np.asarray(rows), "probs_rows": probs[rows],
        "p_targets": probs[np.arange(len(y)), y], "ce_error": np.asarray(model.ce_error(x, y)),
        "argmax": probs.argmax(axis=1),
    }
    settings = dict(file="trained-model-theano.npz (dennybritz/rnn-tutorial-rnnlm data/)",
                    sha256=digest, size=os.path.getsize(path),
                    shapes={k: list(raw[k].shape) for k in ("U", "V", "W")},
                    dtypes={k: str(raw[k].dtype) for k in ("U", "V", "W")}, sentence=TRAINED_SENTENCE)
    return data, settings


def environment():
    import scipy
    import theano

    flags = os.environ.get("THEANO_FLAGS", "")
    ldflags = theano.config.blas.ldflags
    so = re.findall(r"-l:(\S+)", ldflags)
    return dict(theano=theano.__version__, numpy=np.__version__, scipy=scipy.__version__,
                python=platform.python_version(), floatX=theano.config.floatX,
                blas_ldflags=ldflags, blas_so=so[0] if so else None, theano_flags=flags,
                cxx=theano.config.cxx, linker=theano.config.linker, mode=theano.config.mode,
                machine=platform.machine())


def save(path, data, meta):
    arrays = {k: np.asarray(v) for k, v in data.items()}
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def one_precision(args):
    import theano

    precision = theano.config.floatX
    ds = np.load(os.path.join(args.out, "dataset.npz"))
    X, Y = split_xy(ds["tokens"], ds["offsets"])
    env = environment()
    for kind in args.models:
        data, settings = word_run(kind, X, Y)
        save(os.path.join(args.out, f"{kind}_{precision}.npz"), data, dict(env=env, settings=settings))
    for out in args.elman:
        run_meta = elman_classes()
        seq, targets, n_out = elman_data(out, np.random.RandomState(1))
        cfg = dict(ELMAN_CFG, n_out=n_out, output_type=out)
        data = run_meta(cfg, seq, targets)
        data["data/X"], data["data/Y"] = seq, targets
        save(os.path.join(args.out, f"elman_{out}_{precision}.npz"), data,
             dict(env=env, settings=dict(cfg, seed=SEED, data_seed=1, activation="tanh")))
    if args.trained_model and precision == "float64":
        data, settings = trained_run(args.trained_model)
        save(os.path.join(args.out, "trained_model_float64.npz"), data, dict(env=env, settings=settings))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
    p.add_argument("--data", default=os.environ.get("THEANO_RNN_SHARED_DATA"),
                   help="the shared data folder (default $THEANO_RNN_SHARED_DATA)")
    p.add_argument("--trained-model", help="the tutorial's data/trained-model-theano.npz")
    p.add_argument("--precision", choices=PRECISIONS, action="append")
    p.add_argument("--models", nargs="*", default=list(WORD_MODELS), choices=WORD_MODELS)
    p.add_argument("--elman", nargs="*", default=list(ELMAN_OUTPUTS), choices=ELMAN_OUTPUTS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        one_precision(args)
        return 0
    if "THEANO_FLAGS" not in os.environ or "blas.ldflags" not in os.environ["THEANO_FLAGS"]:
        print("make_theano_golden: error: THEANO_FLAGS with blas.ldflags not set "
              "(source VENV/theano_env.sh from scripts/make_theano_env.py)", file=sys.stderr)
        return 2
    if not args.data:
        print("make_theano_golden: error: no --data and no $THEANO_RNN_SHARED_DATA", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    corpus = os.path.join(args.data, "tinyshakespeare", "input.txt")
    tokens, offsets, index_to_word, digest, size = build_dataset(corpus)
    meta = dict(corpus="tinyshakespeare/input.txt", sha256=digest, size=size, vocabulary_size=VOCAB,
                n_sentences=N_SENT, tokens_per_sentence=[MIN_TOK, MAX_TOK],
                tokenizer=r"lower; split after [.!?]; tokens [a-z']+|[.,!?;:]; START/END added")
    np.savez_compressed(os.path.join(args.out, "dataset.npz"), tokens=tokens, offsets=offsets,
                        index_to_word=np.asarray(index_to_word), meta=np.asarray(json.dumps(meta)))
    print(f"dataset: {len(offsets) - 1} sentences, {len(tokens)} tokens, vocabulary {len(index_to_word)}")
    for precision in args.precision or PRECISIONS:
        flags = re.sub(r"floatX=\w+,?", "", os.environ["THEANO_FLAGS"]).strip(",")
        env = dict(os.environ, THEANO_FLAGS=f"floatX={precision},{flags}")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--out", args.out,
               "--models", *args.models, "--elman", *args.elman]
        if args.trained_model:
            cmd += ["--trained-model", args.trained_model]
        subprocess.run(cmd, env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
