r"""The lag tasks' data, generated as gwtaylor's ``test_*`` functions did.

Every task: ``np.random.seed(seed)`` (his 0), then ``seq = randn(100, 10, 5)``
from NumPy's global generator (the tutorial's own draw, the documented
exception to "no global RNG"; ``seed=None`` leaves the global state alone).

* ``real``: 3 outputs, input 3 and input 2 delayed by 1, input 0 delayed by
  2, plus ``0.01 * standard_normal`` noise drawn after ``seq``.
* ``binary``: 1 output, ``x[t-1, 3] > x[t-2, 0]`` from step 2 on
  (``multiple_out``: a second, ``x[t-1,4]*x[t-1,2] > x[t-2,0]``).
* ``softmax``: 3 classes, 1 if ``x[t-1,3] > x[t-2,0] + 0.5``, 2 if
  ``x[t-1,3] < x[t-2,0] - 0.5``, else 0.

His settings (:data:`TASKS`): ``n_hidden 10``, lr 0.001, decay 0.999, tanh;
400 epochs for ``real`` (his ``test_real``), 250 for the others (his
defaults).  His ``__main__`` runs only ``test_real``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TASKS", "make_task", "task_settings"]

#: task -> MetaRNN settings of his test function
TASKS = {
    "real": dict(n_in=5, n_hidden=10, n_out=3, learning_rate=0.001, learning_rate_decay=0.999,
                 n_epochs=400, activation="tanh", output_type="real"),
    "binary": dict(n_in=5, n_hidden=10, n_out=1, learning_rate=0.001, learning_rate_decay=0.999,
                   n_epochs=250, activation="tanh", output_type="binary"),
    "softmax": dict(n_in=5, n_hidden=10, n_out=3, learning_rate=0.001, learning_rate_decay=0.999,
                    n_epochs=250, activation="tanh", output_type="softmax",
                    use_symbolic_softmax=False),
}


def make_task(task, seed=0, n_seq=100, n_steps=10, n_in=5, multiple_out=False):
    """``(seq, targets)`` of ``task`` (``real``, ``binary`` or ``softmax``)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if seed is not None:
        np.random.seed(seed)
    seq = np.random.randn(n_seq, n_steps, n_in)
    if task == "real":
        targets = np.zeros((n_seq, n_steps, 3))
        targets[:, 1:, 0] = seq[:, :-1, 3]
        targets[:, 1:, 1] = seq[:, :-1, 2]
        targets[:, 2:, 2] = seq[:, :-2, 0]
        targets += 0.01 * np.random.standard_normal(targets.shape)
    elif task == "binary":
        targets = np.zeros((n_seq, n_steps, 2 if multiple_out else 1))
        targets[:, 2:, 0] = (seq[:, 1:-1, 3] > seq[:, :-2, 0]).astype(int)
        if multiple_out:
            targets[:, 2:, 1] = ((seq[:, 1:-1, 4] * seq[:, 1:-1, 2]) > seq[:, :-2, 0]).astype(int)
    else:
        targets = np.zeros((n_seq, n_steps), dtype=int)
        thresh = 0.5
        targets[:, 2:][seq[:, 1:-1, 3] > seq[:, :-2, 0] + thresh] = 1
        targets[:, 2:][seq[:, 1:-1, 3] < seq[:, :-2, 0] - thresh] = 2
    return seq, targets


def task_settings(task, targets):
    """His MetaRNN settings for ``task`` (a copy), ``n_out`` read from the
    binary targets (two outputs with ``multiple_out``)."""
    settings = dict(TASKS[task])
    if task == "binary":
        settings["n_out"] = targets.shape[2]
    return settings
