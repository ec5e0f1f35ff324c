"""Train one lag task at gwtaylor's settings and draw his plots."""

from __future__ import annotations

import time

import numpy as np

from theano_rnn.models.elman.meta import MetaRNN
from theano_rnn.runtime.files import atomic_write
from theano_rnn.tasks.seqpred.data import make_task, task_settings

__all__ = ["run_task", "plot_sequence", "need_matplotlib"]


def run_task(task, *, seed=0, n_epochs=None, weight_seed=None, validation_frequency=1000,
             mode=None, multiple_out=False, **overrides):
    """Generate ``task``'s data (``np.random.seed(seed)``), build his MetaRNN
    (weights drawn next from the global generator, as in his script, unless
    ``weight_seed`` gives an explicit generator), train, and return a dict with
    ``model``, ``seq``, ``targets``, ``loss_before``, ``loss_after``, ``seconds``.
    ``multiple_out`` (binary): his ``test_binary(multiple_out=True)``, two outputs."""
    seq, targets = make_task(task, seed=seed, multiple_out=multiple_out)
    settings = task_settings(task, targets)
    if n_epochs is not None:
        settings["n_epochs"] = n_epochs
    settings.update(overrides)
    rng = None if weight_seed is None else np.random.RandomState(weight_seed)
    model = MetaRNN(**settings, rng=rng, mode=mode)
    before = model.loss(seq, targets)
    t0 = time.perf_counter()
    model.fit(seq, targets, validation_frequency=validation_frequency)
    seconds = time.perf_counter() - t0
    return dict(task=task, model=model, seq=seq, targets=targets, loss_before=before,
                loss_after=model.loss(seq, targets), seconds=seconds,
                n_epochs=settings["n_epochs"])


def need_matplotlib():
    """``matplotlib.pyplot`` on the Agg backend, or ImportError with one clear line."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib (pip install matplotlib); "
                          "it is an optional dependency") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_sequence(model, seq, targets, seq_num, path):
    """His figure for one sequence: the input above, true vs model output below (PNG)."""
    plt = need_matplotlib()
    n_steps = seq.shape[1]
    fig = plt.figure()
    try:
        ax1 = plt.subplot(211)
        plt.plot(seq[seq_num])
        ax1.set_title("input")
        ax2 = plt.subplot(212)
        if model.output_type == "real":
            true_targets = plt.plot(targets[seq_num])
            guessed = plt.plot(model.predict(seq[seq_num]), linestyle="--")
            for i, line in enumerate(guessed):
                line.set_color(true_targets[i].get_color())
            ax2.set_title("solid: true output, dashed: model output")
        elif model.output_type == "binary":
            true_targets = plt.step(range(n_steps), targets[seq_num], marker="o")
            guessed = plt.step(range(n_steps), model.predict_proba(seq[seq_num]))
            plt.setp(guessed, linestyle="--", marker="d")
            for i, line in enumerate(guessed):
                line.set_color(true_targets[i].get_color())
            ax2.set_ylim((-0.1, 1.1))
            ax2.set_title("solid: true output, dashed: model output (prob)")
        else:
            plt.step(range(n_steps), targets[seq_num], marker="o")
            plt.imshow(model.predict_proba(seq[seq_num]).T, interpolation="nearest", cmap="gray")
            ax2.set_title("blue: true class, grayscale: probs assigned by model")
        atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    finally:
        plt.close(fig)
    return path
