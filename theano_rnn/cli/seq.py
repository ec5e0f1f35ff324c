"""``theano-rnn seq``: gwtaylor's real-valued sequence predictor (MetaRNN).

``theano-rnn seq demo --task real|binary|softmax``
    One of his lag tasks at his settings (``--epochs`` to shorten): prints the
    train loss before and after and the time, writes the model (``.npz``) and,
    with ``--plots``, his figures for the first sequences as PNG.
``theano-rnn seq train --x X.npy --y Y.npy --output-type real|binary|softmax``
    Train on your own arrays: ``X (N, T, n_in)`` float, ``Y (N, T, n_out)``
    (real; 0/1 for binary) or ``(N, T)`` integer labels (softmax).

Outputs never replace an earlier run's: without ``--output`` the first free
``elman_<task>.npz``, ``_2``... is used; an existing ``--output`` is refused
unless ``--overwrite``.  Bad input: one line on stderr, exit status 1 or 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from theano_rnn.cli.output import claim_output
from theano_rnn.cli.recording import RunRecorder, add_record_option, corpus_entry, run_options
from theano_rnn.cli.recording import seq_evaluations
from theano_rnn.cli.util import (PROG, Parser, command_logging, int_at_least, mode_type,
                                 positive_float, report_errors)
from theano_rnn.errors import CheckpointError, CLIError, DataError

__all__ = ["main", "build_parser", "load_arrays"]

OUTPUT_TYPES = ("real", "binary", "softmax")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "cappedrelu")


def _model_options(p, task_defaults=True):
    p.add_argument("--epochs", type=int_at_least(1, "--epochs"), default=None,
                   help="epochs (default: his, 400 for real, 250 otherwise; train: 100)")
    p.add_argument("--cell", choices=("rnn", "lstm_seed", "lstm"), default="rnn",
                   help="rnn (his), lstm_seed (seed 004's swap), lstm (standard)")
    p.add_argument("--output", help="model file (.npz); default elman_<task>.npz, never replaced")
    p.add_argument("--overwrite", action="store_true", help="allow replacing --output")
    add_record_option(p)
    p.add_argument("--plots", metavar="DIR", help="write his figures as PNG into DIR (matplotlib)")
    p.add_argument("--mode", type=mode_type, default="C", help="backend (C, NUMBA, JAX, PY)")
    p.add_argument("--quiet", action="store_true", help="no progress log")


def build_parser():
    parser = Parser(prog=f"{PROG} seq", description="gwtaylor's Elman RNN sequence predictor")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("demo", help="one of his lag tasks at his settings")
    d.add_argument("--task", choices=OUTPUT_TYPES, required=True)
    d.add_argument("--seed", type=int, default=0, help="np.random.seed of the data (his 0)")
    d.add_argument("--multiple-out", action="store_true",
                   help="binary only: his test_binary(multiple_out=True), a second output "
                        "x[t-1,4]*x[t-1,2] > x[t-2,0] (n_out 2)")
    _model_options(d)
    t = sub.add_parser("train", help="train on your own X.npy / Y.npy")
    t.add_argument("--x", required=True, help="inputs (N, T, n_in), .npy")
    t.add_argument("--y", required=True, help="targets (N, T, n_out) or labels (N, T), .npy")
    t.add_argument("--output-type", choices=OUTPUT_TYPES, required=True)
    t.add_argument("--n-hidden", type=int_at_least(1, "--n-hidden"), default=10)
    t.add_argument("--learning-rate", type=positive_float, default=0.001)
    t.add_argument("--learning-rate-decay", type=positive_float, default=0.999)
    t.add_argument("--activation", choices=ACTIVATIONS, default="tanh")
    t.add_argument("--weight-seed", type=int, default=None,
                   help="explicit generator for the weights (default: NumPy's global, unseeded)")
    _model_options(t)
    return parser


def load_arrays(x_path, y_path, output_type):
    """``(X, Y)`` checked for :class:`MetaRNN`; :class:`DataError` with one line otherwise."""
    arrays = []
    for flag, path in (("--x", x_path), ("--y", y_path)):
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except FileNotFoundError:
            raise DataError(f"{flag} {path}: no such file") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"{flag} {path}: not a .npy array ({' '.join(str(exc).split())})") from None
    X, Y = arrays
    if X.ndim != 3 or not np.issubdtype(X.dtype, np.number):
        raise DataError(f"--x must be a numeric (N, T, n_in) array, got shape {X.shape} {X.dtype}")
    if not np.all(np.isfinite(X)):
        raise DataError("--x holds NaN or infinite values")
    want = 2 if output_type == "softmax" else 3
    if Y.ndim != want or Y.shape[:2] != X.shape[:2]:
        shape = "(N, T) labels" if want == 2 else "(N, T, n_out)"
        raise DataError(f"--y must be {shape} matching --x's (N, T) = {X.shape[:2]}, got {Y.shape}")
    if not np.issubdtype(Y.dtype, np.number) or not np.all(np.isfinite(Y)):
        raise DataError("--y must be finite numbers")
    if output_type == "binary" and not np.isin(Y, (0, 1)).all():
        raise DataError("--output-type binary needs targets 0 or 1")
    if output_type == "softmax" and (Y.min() < 0 or not np.all(Y == np.round(Y))):
        raise DataError("--output-type softmax needs non-negative integer labels")
    return X, Y


def _plots(args, model, seq, targets, stem):
    from theano_rnn.tasks.seqpred.run import plot_sequence

    out = Path(args.plots)
    written = []
    for i in range(min(3, len(seq))):
        path = out / f"{stem}_seq{i}.png"
        if path.exists() and not args.overwrite:
            raise CLIError(f"--plots {out}: {path} exists (an earlier run); pass --overwrite "
                           f"or another --plots", status=2)
        written.append(plot_sequence(model, seq, targets, i, path))
    return written


def _save_record(recorder, args, settings, model, seq, targets, path, before, after):
    """The run record: his loss every 10 epochs, the loss before and after training."""
    n_iter = settings["n_epochs"] * len(seq)
    evaluations = [{"iteration": 0, "train_loss": float(before)},
                   *seq_evaluations(model.history, len(seq)),
                   {"iteration": n_iter, "final_train_loss": float(after)}]
    if args.command == "demo":
        corpus = corpus_entry(arrays={"seq": seq, "targets": targets}, name=f"task {args.task}")
        seeds = {"data_seed": args.seed, "weights": "NumPy's global generator after the data"}
        extra = {}
    else:
        corpus, seeds = corpus_entry([args.x, args.y]), {"weight_seed": args.weight_seed}
        extra = {} if args.weight_seed is not None else {"not_reproducible": (
            "the weights came from NumPy's unseeded global generator (seq train without "
            "--weight-seed)")}
    recorder.save(path, run_options(args), settings=settings, corpus=corpus, seeds=seeds,
                  mode=args.mode, evaluations=evaluations, iterations=n_iter, model=model,
                  extra=extra)


def _run(args):
    from theano_rnn.models.elman import MetaRNN
    from theano_rnn.tasks.seqpred.data import make_task, task_settings
    from theano_rnn.tasks.seqpred.run import need_matplotlib

    if args.plots:
        try:
            need_matplotlib()
        except ImportError as exc:
            raise CLIError(str(exc)) from None
        if not Path(args.plots).is_dir():
            raise CLIError(f"--plots {args.plots}: no such directory", status=2)
    if args.command == "demo":
        if args.multiple_out and args.task != "binary":
            raise CLIError("--multiple-out goes with --task binary only", status=2)
        seq, targets = make_task(args.task, seed=args.seed, multiple_out=args.multiple_out)
        settings = task_settings(args.task, targets)
        stem = f"elman_{args.task}"
        rng = None  # his draw: the global generator right after the data
    else:
        seq, targets = load_arrays(args.x, args.y, args.output_type)
        n_out = int(targets.max()) + 1 if args.output_type == "softmax" else targets.shape[2]
        settings = dict(n_in=seq.shape[2], n_hidden=args.n_hidden, n_out=n_out,
                        learning_rate=args.learning_rate,
                        learning_rate_decay=args.learning_rate_decay, n_epochs=100,
                        activation=args.activation, output_type=args.output_type)
        stem = f"elman_{args.output_type}"
        rng = None if args.weight_seed is None else np.random.RandomState(args.weight_seed)
    if args.epochs is not None:
        settings["n_epochs"] = args.epochs
    path = claim_output(args, f"{stem}.npz")
    recorder = RunRecorder(args, ["seq", args.command])
    model = MetaRNN(**settings, cell=args.cell, rng=rng, mode=args.mode)
    before = model.loss(seq, targets)
    t0 = time.perf_counter()
    model.fit(seq, targets, validation_frequency=max(1, len(seq)) * 10)
    seconds = time.perf_counter() - t0
    after = model.loss(seq, targets)
    model.save(path, overwrite=True)  # the path is claimed (and locked) for this run
    _save_record(recorder, args, settings, model, seq, targets, path, before, after)
    print(f"{stem} ({args.cell}, {settings['n_epochs']} epochs): train loss {before:.4f} -> "
          f"{after:.4f} in {seconds:.1f} s; model {path}")
    if args.plots:
        for p in _plots(args, model, seq, targets, Path(path).stem):
            print(f"plot {p}")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        print(f"{PROG}: error: missing command (demo, train); see '{PROG} seq --help'",
              file=sys.stderr)
        return 2
    with command_logging("WARNING" if args.quiet else "INFO"):
        return report_errors(lambda: _run(args), (DataError, CheckpointError, OSError, ValueError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
