"""The tutorials' published figures as data.

Every number the project reproduces or compares with -- a loss curve a
tutorial printed, a default of its training script, a timing -- is one
:class:`Figure` here, under a stable dotted key whose first part names the
source (``wildml``, ``gwtaylor``, ``udacity``, ``charrnn``, ``seed002``,
``lstm_sentiment``, ``theano105``)::

    >>> from theano_rnn import reference
    >>> reference.get("wildml.part2.loss_curve").value[:2]
    (8.987425, 8.97627)
    >>> [f.key for f in reference.figures(source="gwtaylor", prefix="gwtaylor.real")]
    ['gwtaylor.real.loss_before', 'gwtaylor.real.loss_after']
    >>> reference.get("wildml.part4.dev_run.sgd_step_ms").describe()
    'published 174.0 ms (WildML part 4, train.py development run log)'
    >>> reference.get("gwtaylor.real.loss_after").tolerance
    0.0005

Each figure records what it measures (model and settings), where it comes
from (:data:`SOURCES` plus the section or listing), whether the author
printed it (``origin="published"``) or this project measured it by running
the original code (``origin="measured"``: gwtaylor's tasks, which the author
never printed, and real Theano 1.0.5 timed on this project's machine kind),
and how the project compares with it (:data:`COMPARISONS`: ``exact``,
``tolerance`` (absolute, ``Figure.tolerance``), ``shape`` or ``context``).

The module is plain data: importing it reads no file and has no side
effects; the values are immutable (tuples, read-only mappings).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["Figure", "SOURCES", "COMPARISONS", "KINDS", "CHARRNN_TO_CLI", "get", "value",
           "figures", "keys"]

#: source id (the first part of a key) -> what and where it is
SOURCES = MappingProxyType({
    "wildml": "WildML RNN tutorial (Denny Britz, 2015): part 2 = "
              "https://github.com/dennybritz/rnn-tutorial-rnnlm (RNNLM.ipynb's printed outputs, "
              "train-theano.py; the loss curve is also quoted in seed 001, a Chinese "
              "translation), part 4 = https://github.com/dennybritz/rnn-tutorial-gru-lstm "
              "(gru_theano.py, train.py, utils.py)",
    "gwtaylor": "gwtaylor/theano-rnn https://github.com/gwtaylor/theano-rnn rnn.py (quoted by "
                "seed 004); the author printed no losses: the losses are the original code's, "
                "run on PyTensor by this project (../shared/REFERENCE.md)",
    "udacity": "Udacity Deep Learning assignment 6_lstm.ipynb, "
               "https://github.com/tensorflow/tensorflow/tree/master/tensorflow/examples/udacity "
               "(published outputs on text8; its LSTM cell is quoted by seed 003)",
    "charrnn": "karpathy/char-rnn https://github.com/karpathy/char-rnn (train.lua and sample.lua "
               "command-line defaults, data/tinyshakespeare/input.txt)",
    "seed002": "seed 002: CSDN post https://blog.csdn.net/weixin_55073640/article/details/128617170 "
               "(a GRU in NumPy, code from tt-s-t/Deep-Learning GRU/own/)",
    "lstm_sentiment": "DeepLearningTutorials 'LSTM Networks for Sentiment Analysis', "
                      "https://github.com/lisa-lab/DeepLearningTutorials code/lstm.py "
                      "(train_lstm's defaults; cited by seed 004)",
    "theano105": "../shared/REFERENCE.md: real Theano 1.0.5 on this machine kind (2-core VM, "
                 "C backend, OpenBLAS, one run, 2026-11)",
})

#: how the project compares with a figure
COMPARISONS = MappingProxyType({
    "exact": "the port's default or result equals the value",
    "tolerance": "the result lies within Figure.tolerance (absolute) of the value",
    "shape": "compared in shape only (falls, same magnitude): the absolute numbers need data "
             "the project does not have (the full reddit CSV, text8)",
    "context": "printed beside the figure measured here, not asserted (another machine's "
               "timing, another data set's statistic)",
})

#: kind -> the Python type of ``Figure.value``
KINDS = MappingProxyType({
    "number": float,      # a scalar measurement
    "count": int,         # an integer statistic
    "curve": tuple,       # a sequence of floats, in order
    "table": Mapping,     # x (int) -> float
    "settings": Mapping,  # option name -> value (a configuration or a script's defaults)
    "text": str,
})


@dataclass(frozen=True)
class Figure:
    """One published (or measured-with-the-original) figure."""

    key: str
    value: Any
    kind: str
    unit: str
    measures: str
    where: str
    compare: str
    tolerance: float | None = None
    origin: str = "published"

    @property
    def source(self) -> str:
        """The source id: the key's first part (a key of :data:`SOURCES`)."""
        return self.key.split(".", 1)[0]

    @property
    def citation(self) -> str:
        """``where`` in its source, short: e.g. ``WildML part 2, RNNLM.ipynb ...``."""
        return self.where

    def formatted(self) -> str:
        """The value as text, with its unit."""
        v = self.value
        if isinstance(v, tuple):
            text = " -> ".join(repr(x) for x in v)
        elif isinstance(v, Mapping):
            text = ", ".join(f"{k}: {x!r}" for k, x in v.items())
        else:
            text = str(v)
        return f"{text} {self.unit}" if self.unit else text

    def describe(self) -> str:
        """``published X unit (where)``, or ``measured ...`` for an ``origin="measured"`` one."""
        return f"{self.origin} {self.formatted()} ({self.citation})"


def _frozen(v):
    if isinstance(v, dict):
        return MappingProxyType({k: _frozen(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    return v


_ENTRIES: list[Figure] = []


def _fig(key, value, kind, unit, measures, where, compare, tolerance=None, origin="published"):
    _ENTRIES.append(Figure(key, _frozen(value), kind, unit, measures, where, compare,
                           tolerance, origin))


# ---------------------------------------------------------------- WildML part 2
_P2 = "WildML part 2, RNNLM.ipynb"
_fig("wildml.part2.settings",
     {"word_dim": 8000, "hidden_dim": 100, "bptt_truncate": 4, "seed": 10,
      "learning_rate": 0.005, "train_sentences": 100, "nepoch": 10, "evaluate_loss_after": 1,
      "loss_sentences": 1000},
     "settings", "", "the notebook's experiment: RNNNumpy(8000, 100, bptt_truncate=4) after "
     "np.random.seed(10); train_with_sgd on the first 100 sentences, 10 epochs, lr 0.005, "
     "loss every epoch; the untrained loss on the first 1000 sentences",
     f"{_P2}, 'Training our Network'", "exact")
_fig("wildml.part2.sentences", 79170, "count", "sentences",
     "sentences of the 15,000 reddit comments (NLTK Punkt)", f"{_P2}, data preprocessing output",
     "context")
_fig("wildml.part2.unique_tokens", 65751, "count", "tokens",
     "unique word tokens of those sentences", f"{_P2}, data preprocessing output", "context")
_fig("wildml.part2.vocabulary_size", 8000, "count", "words",
     "vocabulary: the 7,999 most common tokens + UNKNOWN_TOKEN", f"{_P2}, vocabulary_size",
     "context")
_fig("wildml.part2.expected_random_loss", 8.987197, "number", "nats",
     "loss of uniform predictions over C = 8000 words, ln 8000 (ours: ln C of our vocabulary)",
     f"{_P2}, 'Expected Loss for random predictions'", "tolerance", 5e-7)
_fig("wildml.part2.untrained_loss", 8.987440, "number", "nats",
     "mean cross-entropy per word of the untrained seed-10 model on the first 1000 sentences",
     f"{_P2}, 'Actual loss'", "shape")
_fig("wildml.part2.loss_curve",
     [8.987425, 8.976270, 8.960212, 8.930430, 8.862264,
      6.913570, 6.302493, 6.014995, 5.833877, 5.710718],
     "curve", "nats", "RNNNumpy (C 8000, H 100, bptt_truncate 4, seed 10): mean loss per word "
     "before each of 10 epochs over the first 100 sentences, lr 0.005",
     f"{_P2}, train_with_sgd(model, X_train[:100], ...) printed log", "shape")
_fig("wildml.part2.sgd_step_ms.numpy", 315.0, "number", "ms",
     "one RNNNumpy.sgd_step (C 8000, H 100) on X_train[10], %timeit", f"{_P2}, %timeit output",
     "context")
_fig("wildml.part2.sgd_step_ms.numpy_text", 350.0, "number", "ms",
     "the same, as the post's text states it (a laptop)", "WildML part 2 text, '~350 ms'",
     "context")
_fig("wildml.part2.sgd_step_ms.theano", 64.5, "number", "ms",
     "one RNNTheano.sgd_step (C 8000, H 100) on X_train[10], %timeit", f"{_P2}, %timeit output",
     "context")
_fig("wildml.part2.sgd_step_ms.theano_text_cpu", 70.0, "number", "ms",
     "RNNTheano.sgd_step as the text states it, Mac CPU", "WildML part 2 text, Theano section",
     "context")
_fig("wildml.part2.sgd_step_ms.theano_text_gpu", 23.0, "number", "ms",
     "RNNTheano.sgd_step as the text states it, AWS g2.2xlarge GPU",
     "WildML part 2 text, Theano section", "context")
_fig("wildml.part2.gradient_check",
     {"word_dim": 100, "hidden_dim": 10, "x": [0, 1, 2, 3], "y": [1, 2, 3, 4], "h": 0.001,
      "error_threshold": 0.01},
     "settings", "", "the gradient check that passes for U, V and W",
     f"{_P2}, 'Gradient Checking'", "exact")
_fig("wildml.part2.trained_model",
     {"U": [50, 8000], "V": [8000, 50], "W": [50, 50], "dtype": "float32", "epochs": 50},
     "settings", "", "layout of the shipped data/trained-model-theano.npz (hidden 50, 50 epochs)",
     "WildML part 2 repo, data/trained-model-theano.npz", "exact")
_fig("wildml.part2.train_theano_env",
     {"VOCABULARY_SIZE": 8000, "HIDDEN_DIM": 80, "LEARNING_RATE": 0.005, "NEPOCH": 100},
     "settings", "", "train-theano.py's environment defaults (it also saves every 5 epochs and "
     "halves the lr when the loss rises)", "WildML part 2 repo, train-theano.py", "exact")

# ---------------------------------------------------------------- WildML part 4
_P4 = "WildML part 4"
_fig("wildml.part4.train_defaults",
     {"LEARNING_RATE": 0.001, "VOCABULARY_SIZE": 2000, "HIDDEN_DIM": 128, "NEPOCH": 20,
      "PRINT_EVERY": 25000},
     "settings", "", "train.py's environment defaults (GRUTheano, examples shuffled every epoch)",
     f"{_P4}, train.py", "exact")
_fig("wildml.part4.rmsprop", {"decay": 0.9, "epsilon": 1e-6}, "settings", "",
     "GRUTheano.sgd_step's RMSprop: m = decay m + (1 - decay) g^2, p -= lr g / sqrt(m + eps)",
     f"{_P4}, gru_theano.py", "exact")
_fig("wildml.part4.dev_run.settings",
     {"num_layers": 1, "vocabulary_size": 2000, "sentences": 500, "nepoch": 3},
     "settings", "", "the logged development run of GRUTheano", f"{_P4}, train.py development run log",
     "exact")
_fig("wildml.part4.dev_run.losses", [7.596, 4.900, 4.745, 4.663], "curve", "nats",
     "GRUTheano, 1 layer, vocabulary 2000, 500 sentences: loss before training and after "
     "each of 3 epochs (the first is about ln 2000)", f"{_P4}, train.py development run log",
     "shape")
_fig("wildml.part4.dev_run.sgd_step_ms", 174.0, "number", "ms",
     "one sgd_step of that run ('SGD Step time')", f"{_P4}, train.py development run log",
     "context")

# ---------------------------------------------------------------- gwtaylor's tasks
_GW = "gwtaylor/theano-rnn rnn.py"
_fig("gwtaylor.task_settings",
     {"seed": 0, "n_seq": 100, "n_steps": 10, "n_in": 5, "n_hidden": 10, "learning_rate": 0.001,
      "learning_rate_decay": 0.999, "n_epochs_real": 400, "n_epochs_binary": 250,
      "n_epochs_softmax": 250},
     "settings", "", "test_real / test_binary / test_softmax: np.random.seed(0), 100 sequences "
     "x 10 steps x 5 inputs, MetaRNN(n_hidden=10, lr 0.001, decay 0.999)",
     f"{_GW}, test_real/test_binary/test_softmax", "exact")
_fig("gwtaylor.metarnn_defaults",
     {"n_in": 5, "n_hidden": 50, "n_out": 5, "learning_rate": 0.01, "n_epochs": 100,
      "L1_reg": 0.0, "L2_reg": 0.0, "learning_rate_decay": 1.0, "activation": "tanh",
      "output_type": "real", "final_momentum": 0.9, "initial_momentum": 0.5,
      "momentum_switchover": 5, "use_symbolic_softmax": False},
     "settings", "", "MetaRNN.__init__'s defaults", f"{_GW}, MetaRNN", "exact")
for _task, _before, _after, _what in (
        ("real", 0.868, 0.0062, "untrained mean train MSE -> after 400 epochs"),
        ("binary2", 0.684, 0.634, "test_binary(multiple_out=True), two outputs: first logged "
                                  "loss (epoch 10) -> after 250 epochs"),
        ("softmax", 1.077, 0.158, "first logged loss (epoch 10, untrained: ln 3) -> after "
                                  "250 epochs")):
    _fig(f"gwtaylor.{_task}.loss_before", _before, "number", "",
         f"test_{_task.rstrip('2')} at his settings: {_what}; the first", f"{_GW}, run here",
         "tolerance", 1e-3, "measured")
    _fig(f"gwtaylor.{_task}.loss_after", _after, "number", "",
         f"test_{_task.rstrip('2')} at his settings: {_what}; the last", f"{_GW}, run here",
         "tolerance", 5e-4, "measured")
for _cell, _mse, _what in (("rnn", 0.0062, "his RNN"),
                           ("lstm_seed", 0.180, "seed 004's LSTM swap (one shared preact)"),
                           ("lstm_standard", 0.195, "a standard 4-gate LSTM")):
    _fig(f"gwtaylor.lstm_experiment.{_cell}", _mse, "number", "",
         f"test_real, 400 epochs, final train MSE of {_what}",
         "seed 004's LSTM experiment on rnn.py, run here", "context", None, "measured")

# ---------------------------------------------------------------- Udacity 6_lstm
_fig("udacity.settings",
     {"vocabulary_size": 27, "num_nodes": 64, "batch_size": 64, "num_unrollings": 10,
      "learning_rate": 10.0, "decay_steps": 5000, "decay_rate": 0.1, "clip_norm": 1.25,
      "num_steps": 7001, "summary_frequency": 100, "valid_size": 1000},
     "settings", "", "the notebook's LSTM (a-z + space, truncated_normal +-0.1 weights) and "
     "loop: SGD lr 10 x0.1 every 5000 steps (staircase), global-norm clip 1.25",
     "6_lstm.ipynb, problem setup", "exact")
_fig("udacity.valid_perplexity",
     {0: 19.99, 100: 10.60, 1000: 6.07, 2100: 5.01, 2900: 4.61, 5100: 4.47, 7000: 4.25},
     "table", "", "validation perplexity (first 1000 characters of text8) by step",
     "6_lstm.ipynb, printed training log", "shape")

# ---------------------------------------------------------------- char-rnn
_fig("charrnn.train_defaults",
     {"model": "lstm", "rnn_size": 128, "num_layers": 2, "learning_rate": 2e-3,
      "learning_rate_decay": 0.97, "learning_rate_decay_after": 10, "decay_rate": 0.95,
      "dropout": 0.0, "seq_length": 50, "batch_size": 50, "max_epochs": 50, "grad_clip": 5.0,
      "train_frac": 0.95, "val_frac": 0.05, "seed": 123, "print_every": 1,
      "eval_val_every": 1000},
     "settings", "", "train.lua's command-line defaults: RMSprop (alpha = decay_rate), "
     "element-wise gradient clipping, lr x0.97 per epoch after epoch 10; the CLI's "
     "CHAR_DEFAULTS take them (names in CHARRNN_TO_CLI)", "char-rnn train.lua, cmd:option",
     "exact")
_fig("charrnn.sample_defaults", {"seed": 123, "sample": 1, "length": 2000, "temperature": 1.0},
     "settings", "", "sample.lua's defaults (sample 0 = argmax; temperature divides the "
     "log-probabilities)", "char-rnn sample.lua, cmd:option", "exact")
_fig("charrnn.abort_factor", 3.0, "number", "x first loss",
     "training aborts when the loss exceeds this multiple of the first loss (or is NaN)",
     "char-rnn train.lua, main loop", "exact")
_fig("charrnn.tinyshakespeare.characters", 1115394, "count", "characters",
     "length of data/tinyshakespeare/input.txt", "char-rnn data/tinyshakespeare", "exact")
_fig("charrnn.tinyshakespeare.vocabulary", 65, "count", "characters",
     "distinct characters of Tiny Shakespeare", "char-rnn train.lua output 'vocab size'", "exact")
_fig("charrnn.default_model.parameters", 240321, "count", "parameters",
     "the default 2 x 128 LSTM on Tiny Shakespeare, Torch's two biases per gate (the port "
     "keeps one: 2 * 4 * 128 fewer)", "char-rnn train.lua output 'number of parameters'",
     "exact")

#: char-rnn train.lua option -> the key of ``theano_rnn.cli.char_options.CHAR_DEFAULTS``
#: that takes its default (``print_every`` has no counterpart)
CHARRNN_TO_CLI = MappingProxyType({
    "model": "cell", "rnn_size": "hidden_dim", "num_layers": "num_layers",
    "learning_rate": "learning_rate", "learning_rate_decay": "learning_rate_decay",
    "learning_rate_decay_after": "learning_rate_decay_after", "decay_rate": "decay_rate",
    "dropout": "dropout", "seq_length": "seq_length", "batch_size": "batch_size",
    "max_epochs": "max_epochs", "grad_clip": "grad_clip", "train_frac": "train_frac",
    "val_frac": "val_frac", "seed": "seed", "eval_val_every": "eval_val_every",
})

# ---------------------------------------------------------------- seed 002
_fig("seed002.settings",
     {"text": " ".join(["abcdefg"] * 12), "sequence_length": 6, "hidden_size": 16, "lr": 1e-4,
      "max_epoch": 5000, "prime": "a", "next_len": 50},
     "settings", "", "the post's training script: one-hot characters, softmax output, "
     "h reset to 0 for every batch; then 50 characters generated from 'a'",
     "seed 002, section 3 (training code)", "exact")
_fig("seed002.clean_text", "abcdefg abcdefg abcdefg abcdefg abcdefg abcdefg abc", "text", "",
     "what the post says the trained model writes from 'a' ('abcdefg abcdefg ...'), over the "
     "script's 'a' + 50 generated characters", "seed 002, section 3 (result)", "exact")
_fig("seed002.printed_final_loss", [0.97, 1.90, 1.73], "curve", "",
     "the published code as printed at lr 1e-4, final epoch loss over three seeds (it then "
     "writes e.g. 'abcdefg abbcdefeg abbdea...'; at lr 1e-3 clean text)",
     "seed 002's code, run here", "context", None, "measured")

# ---------------------------------------------------------------- LSTM sentiment tutorial
_fig("lstm_sentiment.train_lstm_defaults",
     {"dim_proj": 128, "patience": 10, "max_epochs": 5000, "dispFreq": 10, "decay_c": 0.0,
      "lrate": 1e-4, "n_words": 10000, "optimizer": "adadelta", "encoder": "lstm",
      "validFreq": 370, "saveFreq": 1110, "maxlen": 100, "batch_size": 16,
      "valid_batch_size": 64, "noise_std": 0.0, "use_dropout": True, "SEED": 1234},
     "settings", "", "train_lstm's keyword defaults and the module's SEED (IMDB, embedding + "
     "LSTM + mean pooling + dropout + softmax, Adadelta)", "DeepLearningTutorials lstm.py, "
     "train_lstm", "exact")

# ---------------------------------------------------------------- real Theano 1.0.5, here
_TH = "real Theano 1.0.5, this machine kind"
_fig("theano105.rnn.settings",
     {"word_dim": 8000, "hidden_dim": 100, "sentence_length": 45, "repeats": 20},
     "settings", "", "RNNTheano(8000, 100) timed on a 45-token sentence, median of 20 calls",
     _TH, "exact", None, "measured")
for _name, _f64, _f32, _what in (
        ("sgd_step_ms.full", 116.9, 61.8, "sgd_step, full BPTT (bptt_truncate=-1)"),
        ("sgd_step_ms.truncate4", 30.2, 16.2, "sgd_step, bptt_truncate=4"),
        ("ce_error_ms", 8.0, 3.8, "ce_error")):
    for _dtype, _v in (("float64", _f64), ("float32", _f32)):
        _fig(f"theano105.rnn.{_name}.{_dtype}", _v, "number", "ms",
             f"RNNTheano(8000, 100) {_what}, {_dtype}, 45 tokens, median of 20", _TH,
             "context", None, "measured")
_fig("theano105.rnn.compile_s.first", 9.8, "number", "s",
     "building + compiling RNNTheano(8000, 100), first model of a fresh compile folder", _TH,
     "context", None, "measured")
_fig("theano105.rnn.compile_s.second", 2.9, "number", "s",
     "the same for a second model (compiled modules shared)", _TH, "context", None, "measured")

_ENTRIES = tuple(_ENTRIES)
_BY_KEY = MappingProxyType({f.key: f for f in _ENTRIES})
del _task, _before, _after, _what, _cell, _mse, _name, _f64, _f32, _dtype, _v


def keys() -> tuple[str, ...]:
    """Every key, in definition order."""
    return tuple(_BY_KEY)


def get(key: str) -> Figure:
    """The figure under ``key``; ``KeyError`` (naming the nearest keys) if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        near = difflib.get_close_matches(key, list(_BY_KEY), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise KeyError(f"no reference figure {key!r}{hint}") from None


def value(key: str) -> Any:
    """``get(key).value``."""
    return get(key).value


def figures(source: str | None = None, prefix: str | None = None,
            compare: str | None = None, origin: str | None = None) -> tuple[Figure, ...]:
    """The figures, in definition order, filtered by source id, key prefix, comparison, origin."""
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    if compare is not None and compare not in COMPARISONS:
        raise ValueError(f"unknown comparison {compare!r}; choose from {', '.join(COMPARISONS)}")
    return tuple(f for f in _ENTRIES
                 if (source is None or f.source == source)
                 and (prefix is None or f.key == prefix or f.key.startswith(prefix + "."))
                 and (compare is None or f.compare == compare)
                 and (origin is None or f.origin == origin))
