"""Every error type the command line turns into one line on stderr.

The library raises these (and ``ValueError``/``OSError`` for plain bad
arguments); :mod:`theano_rnn.cli` maps each to ``theano-rnn: error: ...`` and
an exit status.  One module, at the bottom of the dependency graph, so every
layer can raise them without importing another layer.
"""

from __future__ import annotations

__all__ = ["DataError", "CheckpointError", "TrainingError", "NonFiniteLossError", "SamplingError", "CLIError"]


class DataError(ValueError):
    """Bad input to the data pipeline (missing file, empty corpus, bad option...)."""


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or does not fit the model."""


class TrainingError(RuntimeError):
    """Training cannot continue."""


class NonFiniteLossError(TrainingError):
    """A loss (evaluated or returned by ``sgd_step``) is NaN or infinite.

    Attributes: ``epoch``, ``index`` (the example's index in the training set,
    ``None`` for an evaluation), ``loss``, ``num_examples_seen``.
    """

    def __init__(self, message, *, epoch=None, index=None, loss=None, num_examples_seen=None):
        super().__init__(message)
        self.epoch = epoch
        self.index = index
        self.loss = loss
        self.num_examples_seen = num_examples_seen


class SamplingError(RuntimeError):
    """No acceptable sentence within the allowed number of tries."""


class CLIError(Exception):
    """A one-line error for the user (bad options, conflicting settings).

    ``status`` is the exit status: 1, or 2 for usage errors.
    """

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status
