"""``theano-rnn plot CKPT``: a PNG of the loss history stored in a checkpoint.

The command's parser is registered by :mod:`theano_rnn.cli.char`
(``add_commands``); :func:`plot_loss` is its handler.  Needs the optional
``plot`` extra (matplotlib): ``pip install 'theano_rnn[plot]'``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from theano_rnn import io
from theano_rnn.cli.util import check_output as _check_output
from theano_rnn.errors import CLIError
from theano_rnn.runtime.files import atomic_write

__all__ = ["loss_history", "plot_loss"]

log = logging.getLogger("theano_rnn.cli.plot")


def _import_matplotlib():
    """``(Figure, FigureCanvasAgg)``; a one-line error naming the extra when missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise CLIError("plot needs matplotlib, which is not installed: "
                       "pip install 'theano_rnn[plot]' (or pip install matplotlib)") from None
    return Figure, FigureCanvasAgg


def loss_history(path):
    """``(train, val, xlabel, title)`` from a checkpoint: lists of (x, loss)."""
    meta = io.read_metadata(path)
    md = meta.get("metadata", {}) if isinstance(meta.get("metadata"), dict) else {}
    model = meta.get("model", {}) if isinstance(meta.get("model"), dict) else {}
    desc = (f"{model.get('num_layers', '?')} x {model.get('hidden_dim', '?')} "
            f"{str(model.get('cell', '?')).upper()}")
    if md.get("kind") == "char":
        tr = md.get("trainer", {})
        train = [tuple(v) for v in tr.get("train_losses", [])]
        val = [tuple(v) for v in tr.get("val_losses", [])]
        corpus = (md.get("options") or {}).get("corpus")
        name = "Python stdlib source" if corpus is None else ", ".join(
            Path(c).name for c in corpus) if isinstance(corpus, list) else str(corpus)
        return train, val, "iteration", f"char-rnn {desc} on {name}"
    losses = [tuple(v) for v in md.get("losses", [])]
    return losses, [], "examples seen", f"{desc} (word level)"


def plot_loss(args, show_progress, t_start):
    """The handler of ``plot``: writes the PNG, prints its path; returns 0."""
    path = args.checkpoint
    if not Path(path).is_file():
        raise CLIError(f"no such checkpoint: {path}")
    Figure, FigureCanvasAgg = _import_matplotlib()
    train, val, xlabel, title = loss_history(path)
    if not train and not val:
        raise CLIError(f"{path} holds no loss history to plot")
    out = Path(args.output) if args.output else Path(path).with_name(Path(path).stem + "_loss.png")
    _check_output(out)
    fig = Figure(figsize=(8, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if train:
        x = np.array([t[0] for t in train], dtype=float)
        y = np.array([t[1] for t in train], dtype=float)
        window = args.smooth or max(1, len(y) // 50)
        if window > 1 and len(y) >= window:
            ax.plot(x, y, color="tab:blue", alpha=0.25, linewidth=0.8, label="training (raw)")
            ys = np.convolve(y, np.ones(window) / window, mode="valid")
            ax.plot(x[window - 1:], ys, color="tab:blue", linewidth=1.6,
                    label=f"training (mean of {window})")
        else:
            ax.plot(x, y, color="tab:blue", linewidth=1.2, marker="." if len(y) < 50 else None,
                    label="training")
    if val:
        ax.plot([v[0] for v in val], [v[1] for v in val], color="tab:orange", marker="o",
                linewidth=1.6, label="validation")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss (nats per character)" if xlabel == "iteration" else "loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_write(out, lambda fh: fig.savefig(fh, dpi=args.dpi, format="png"))
    log.info("Wrote %s (%d training points, %d validation points)", out, len(train), len(val))
    print(out)
    return 0

