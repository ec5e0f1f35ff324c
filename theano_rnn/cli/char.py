"""Karpathy's char-rnn on the command line: ``train-char``, ``sample-char`` and ``plot``.

``theano-rnn train-char [--corpus FILE ...]``
    ``train.lua``: a character-level language model (default 2 x 128 LSTM,
    seq_length 50, batch 50, RMSprop 2e-3) on a UTF-8 text, checkpointed
    every ``--eval-val-every`` iterations.  With no ``--corpus`` it trains on
    Python's own standard-library source (Karpathy's "Linux source"
    experiment, in Python) with small defaults and a time budget, so the whole
    command, compilation included, ends in about a minute and prints a sample.
``theano-rnn sample-char CKPT``
    ``sample.lua``: stream characters from a checkpoint.
``theano-rnn plot CKPT``
    A PNG of the training and validation loss stored in a checkpoint
    (needs the optional ``plot`` extra: ``pip install 'theano_rnn[plot]'``).
    Its handler lives in :mod:`theano_rnn.cli.plot`.

This module is self-contained: :func:`add_commands` registers the three
sub-commands on any ``argparse`` sub-parser collection and :func:`run`
executes parsed arguments, returning the exit status.  :func:`main` is a
standalone entry point (``python -m theano_rnn.cli.char``).

Conventions (those of :mod:`theano_rnn.cli.word`): errors are one line
``theano-rnn: error: ...`` on stderr; exit status 2 for command-line usage
errors, 1 for everything else, 130 after Ctrl-C; nothing is written when the
input is bad (an existing ``--output`` stays byte-identical).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from theano_rnn import __version__, io
from theano_rnn.cells import get_cell
from theano_rnn.data import corpora
from theano_rnn.data.chars import CharLoader, CharVocab, load_corpus, read_chars, read_poems_json
from theano_rnn.training.progress import TrainProgress
from theano_rnn.cli.plot import loss_history, plot_loss
from theano_rnn.cli.util import StopFlag
from theano_rnn.errors import CheckpointError, CLIError, DataError
from theano_rnn.cli.util import check_mode as _check_mode
from theano_rnn.cli.util import check_cell_memory, claim_output
from theano_rnn.cli.util import run_handler, standalone_main
from theano_rnn.cli.recording import RunRecorder, char_evaluations, run_options
from theano_rnn.training.record import corpus_entry

__all__ = [
    "COMMANDS",
    "CHAR_DEFAULTS",
    "EMBEDDED_CHAR_DEFAULTS",
    "add_commands",
    "run",
    "main",
    "is_char_checkpoint",
    "route_argv",
    "python_source_corpus",
    "loss_history",
]

log = logging.getLogger("theano_rnn.cli.char")  # by name: also when run as __main__

python_source_corpus = corpora.python_source_corpus

from theano_rnn.cli.char_options import (
    CHAR_DEFAULTS, COMMANDS, DATA_KEYS, EMBEDDED_CHAR_DEFAULTS, MODEL_KEYS, PROG, TRAIN_KEYS,
    add_commands, build_parser, is_char_checkpoint, route_argv,
)

# ------------------------------------------------------------------------ helpers


def _best_path(output):
    p = Path(output)
    return p.with_name(p.stem + "_best" + (p.suffix or ".npz"))


def _corpus_stem(paths):
    if not paths:
        return "python_stdlib"
    p = Path(paths[0])
    stem = p.stem or "corpus"
    if stem == "input" and p.parent.name:  # char-rnn's data/<name>/input.txt
        stem = p.parent.name
    return stem


# ---------------------------------------------------------------------- train-char


def _resolve_train(args, stored):
    """Settings: flag > checkpoint (``stored``) > defaults; returns (settings, sources)."""
    embedded = args.corpus is None and (not stored or stored.get("corpus") is None)
    table = EMBEDDED_CHAR_DEFAULTS if embedded else CHAR_DEFAULTS
    s, sources = {}, {}
    keys = set(CHAR_DEFAULTS) | {"corpus", "corpus_chars"}
    for key in sorted(keys):
        flag = getattr(args, key, None)
        if flag is not None:
            s[key], sources[key] = flag, "flag"
        elif stored and key in stored and (key in MODEL_KEYS or key in DATA_KEYS or key in TRAIN_KEYS):
            s[key], sources[key] = stored[key], "checkpoint"
        else:
            s[key], sources[key] = table.get(key), "default"
    s["embedded"] = embedded
    if embedded and args.corpus_chars is None and not stored:
        s["corpus_chars"] = EMBEDDED_CHAR_DEFAULTS["corpus_chars"]
    if not embedded:
        s["corpus_chars"] = None
    return s, sources


def _read_text(paths, encoding):
    """The corpus text of several files (``.json``: chinese-poetry poems)."""
    parts, group = [], []

    def flush():
        if group:
            parts.append(read_poems_json(list(group)))
            group.clear()

    for p in paths:
        if str(p).lower().endswith(".json"):
            group.append(p)
            continue
        flush()
        parts.append(read_chars(p, encoding))
    flush()
    if len(parts) == 1:
        return parts[0]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def _load_data(s):
    """``(vocab, loader, n_chars, description, corpus)`` for the resolved settings
    (``corpus``: the run record's :func:`~theano_rnn.training.record.corpus_entry`)."""
    fractions = (s["train_frac"], s["val_frac"])
    if s["train_frac"] + s["val_frac"] > 1 + 1e-9:
        raise CLIError(f"--train-frac {s['train_frac']} + --val-frac {s['val_frac']} exceed 1",
                       status=2)
    if s["train_frac"] <= 0:
        raise CLIError("--train-frac must be > 0", status=2)
    if s["embedded"]:
        text = corpora.python_source_corpus(max_chars=s["corpus_chars"])
        desc = f"{corpora.PYTHON_SOURCE_CORPUS_NAME}, {len(text):,} characters"
        corpus = corpus_entry(text=text, name=corpora.PYTHON_SOURCE_CORPUS_NAME)
    elif len(s["corpus"]) == 1 and not str(s["corpus"][0]).lower().endswith(".json"):
        vocab, loader = load_corpus(
            s["corpus"][0], batch_size=s["batch_size"], seq_length=s["seq_length"],
            min_freq=s["min_freq"], encoding=s["encoding"], cache_dir=s["cache_dir"],
            split_fractions=fractions,
        )
        return (vocab, loader, loader.n_chars, f"{s['corpus'][0]}, {loader.n_chars:,} characters",
                corpus_entry(s["corpus"]))
    else:
        text = _read_text(s["corpus"], s["encoding"])
        desc = f"{len(s['corpus'])} files, {len(text):,} characters"
        corpus = corpus_entry(s["corpus"])
    vocab = CharVocab.from_text(text, min_freq=s["min_freq"])
    loader = CharLoader(text, vocab, s["batch_size"], s["seq_length"], fractions)
    return vocab, loader, len(text), desc, corpus


def _stored_settings(path):
    """The settings recorded by train-char in a checkpoint, or ``{}``."""
    meta = io.read_metadata(path)
    if not meta:
        raise CheckpointError(f"{path} has no metadata: it was not written by train-char")
    md = meta.get("metadata", {}) if isinstance(meta.get("metadata"), dict) else {}
    if md.get("kind") != "char":
        raise CheckpointError(f"{path} is not a char-rnn checkpoint (use theano-rnn train "
                              "--init-from for word-level models)")
    stored = dict(md.get("options") or {})
    model = meta.get("model", {})
    stored.update({
        "cell": model.get("cell"), "num_layers": model.get("num_layers"),
        "hidden_dim": model.get("hidden_dim"), "input": model.get("input_mode"),
        "dropout": model.get("dropout"), "gate_activation": model.get("gate_activation"),
        "optimizer": model.get("optimizer"), "decay_rate": model.get("decay_rate"),
        "grad_clip": model.get("grad_clip"),
    })
    stored.update(md.get("train_options", {}))
    loader = md.get("loader", {})
    stored.update({k: loader[k] for k in ("batch_size", "seq_length") if k in loader})
    if "corpus" not in stored:
        stored["corpus"] = "unknown"
    return stored


def _check_resume_flags(args, stored, path):
    for key in MODEL_KEYS:
        want = getattr(args, key, None)
        have = stored.get(key)
        if want is not None and have is not None and want != have:
            flag = "--" + key.replace("_", "-")
            raise CLIError(f"{flag} {want} does not match the checkpoint {path} ({key}={have}); "
                           "leave it out to continue that model")
    if args.corpus is None and stored.get("corpus") == "unknown":
        raise CLIError(f"{path} does not record its corpus: pass --corpus")


class _StopFlag(StopFlag):
    """SIGINT handling: the first Ctrl-C asks for a clean stop, the second aborts."""

    message = ("Ctrl-C: stopping after this iteration and saving a checkpoint "
               "(Ctrl-C again to abort without saving)")
    logger = log


def _final_eval(trainer):
    """Validate the current model (if not done at this iteration), keep the best, save."""
    if trainer.val_losses and trainer.val_losses[-1][0] == trainer.iteration:
        return trainer.save()
    val = trainer.evaluate("val")
    if val is not None:
        trainer.val_losses.append((trainer.iteration, val))
        log.info("iteration %d (epoch %.2f): val loss %.4f (perplexity %.2f)",
                 trainer.iteration, trainer.epoch, val, math.exp(min(val, 700)))
        if trainer.best_val_loss is None or val < trainer.best_val_loss:
            trainer.best_val_loss = val
            if trainer.best_path:
                trainer.save(trainer.best_path)
    return trainer.save()


def _train_char(args, show_progress, t_start):
    from theano_rnn.models.char import CharRNN
    from theano_rnn.tasks.charlm.trainer import CharTrainer, CharTrainOptions
    from theano_rnn.tasks.sampling import sample_chars

    mode = _check_mode(args.mode or "C")
    stored = {}
    if args.init_from is not None:
        if not Path(args.init_from).is_file():
            raise CLIError(f"--init-from {args.init_from}: no such checkpoint")
        stored = _stored_settings(args.init_from)
        _check_resume_flags(args, stored, args.init_from)
    s, sources = _resolve_train(args, stored)
    s["cache_dir"] = args.cache_dir
    s["mode"] = mode
    if s["input"] == "embedding" and "embedding" not in get_cell(s["cell"]).input_modes:
        raise CLIError("--input embedding needs a gated cell (--cell gru or lstm)", status=2)
    if s["prime"] and s["samples"] == 0 and args.prime is not None:
        log.warning("--prime has no effect without --samples N")
    if args.cache_dir is not None and not Path(args.cache_dir).is_dir():
        raise CLIError(f"--cache-dir {args.cache_dir}: no such directory")

    output = claim_output(args, Path("cv") / f"{_corpus_stem(s['corpus'])}_{s['cell']}.npz",
                          companions=lambda p: [_best_path(p)])
    best = _best_path(output)
    if args.init_from is not None and Path(args.init_from).resolve() == best.resolve():
        raise CLIError(f"--init-from {args.init_from} is the best-checkpoint file of --output "
                       f"{output}; pass another --output", status=2)

    recorder = RunRecorder(args, ["train-char"])
    vocab, loader, n_chars, desc, corpus = _load_data(s)
    log.info("Corpus: %s; vocabulary of %d characters%s", desc, len(vocab),
             f" (unknown symbol {vocab.unknown!r})" if vocab.unknown is not None else "")

    options = CharTrainOptions(
        learning_rate=s["learning_rate"], learning_rate_decay=s["learning_rate_decay"],
        learning_rate_decay_after=s["learning_rate_decay_after"], max_epochs=s["max_epochs"],
        eval_val_every=s["eval_val_every"], seed=s["seed"],
    )
    if args.init_from is not None:
        trainer = CharTrainer.resume(args.init_from, loader, vocab, mode=mode,
                                     checkpoint_path=output, best_path=best, options=options)
        if args.learning_rate is not None:
            log.info("learning rate set to %g (the checkpoint had %g)", args.learning_rate,
                     trainer.learning_rate)
            trainer.learning_rate = float(args.learning_rate)
        log.info("Continuing %r from %s at iteration %d (epoch %.2f)", trainer.model,
                 args.init_from, trainer.iteration, trainer.epoch)
    else:
        check_cell_memory(s["cell"], len(vocab), s["hidden_dim"], s["num_layers"], s["input"])
        model = CharRNN(
            len(vocab), s["cell"], s["hidden_dim"], s["num_layers"], input_mode=s["input"],
            dropout=s["dropout"], gate_activation=s["gate_activation"], optimizer=s["optimizer"],
            decay_rate=s["decay_rate"], grad_clip=s["grad_clip"], seed=s["seed"], mode=mode,
        )
        trainer = CharTrainer(model, vocab, loader, options, checkpoint_path=output,
                              best_path=best)
    if trainer.iteration >= trainer.total_iterations:
        raise CLIError(f"{args.init_from} has already trained {trainer.epoch:g} epochs "
                       f"(iteration {trainer.iteration}); pass a larger --max-epochs to continue")

    recorded = {k: v for k, v in s.items() if k != "cache_dir"}
    recorded.update({
        "sources": sources, "init_from": args.init_from, "output": str(output),
        "max_iterations": args.max_iterations, "corpus_characters": n_chars,
        "corpus_name": corpora.PYTHON_SOURCE_CORPUS_NAME if s["embedded"] else None,
        "python_version": sys.version.split()[0] if s["embedded"] else None,
        "theano_rnn_version": __version__,
    })
    if stored:
        recorded["resumed_from"] = stored.get("resumed_from", []) + [str(args.init_from)]
    trainer.metadata = recorded
    model = trainer.model
    log.info("Model %r: %s parameters, %s, lr %g; %d iterations per epoch (%d train / %d val "
             "batches of %d x %d)", model, f"{model.num_params():,}", model.optimizer,
             trainer.learning_rate, trainer.ntrain, trainer.ntrain, loader.num_batches("val"),
             loader.seq_length, loader.batch_size)

    total = trainer.total_iterations
    if args.max_iterations is not None:
        total = min(total, trainer.iteration + args.max_iterations)
    budget = s["time_budget"] or None  # 0: none
    start_iter = trainer.iteration
    state = {"first": True, "budget_hit": False}
    bar = None
    if show_progress:
        bar = TrainProgress(total, initial=start_iter, label="train-char", time_budget=budget)
    stop = _StopFlag()

    chars_per_batch = loader.batch_size * loader.seq_length

    def progress(i, _total, loss, _cps):
        now = time.monotonic()
        if state["first"]:
            state.update(first=False, t_first=now, i_first=i)
            stop.training = True  # from now on Ctrl-C means "save and stop"
            log.info("First iteration done %.1f s after start (compilation included); "
                     "Ctrl-C saves a checkpoint and stops", now - t_start)
        state["t_last"], state["i_last"] = now, i
        if bar is not None:
            bar(i, _total, loss, _cps)

    def should_stop():
        if stop.requested:
            return True
        # the budget counts training time: from the end of the first iteration
        # (compilation excluded), so a cold compile cache still trains
        if budget is not None and not state["first"] and time.monotonic() - state["t_first"] >= budget:
            state["budget_hit"] = True
            return True
        return False

    log.info("Training%s; checkpoint %s (best: %s)",
             f" for at most {budget:g} s" if budget else "", output, best)
    with bar or contextlib.nullcontext(), stop:
        result = trainer.run(max_iterations=args.max_iterations, progress=progress,
                             should_stop=should_stop)
        stop.training = False
    elapsed = time.monotonic() - t_start

    if result.reason in ("nan", "exploded"):
        what = ("the loss became NaN" if result.reason == "nan" else
                "the loss exploded (more than 3x the first loss)")
        if result.checkpoint:
            kept = (f"the last good checkpoint {result.checkpoint} (iteration "
                    f"{_saved_iteration(result.checkpoint)}) is kept")
        elif args.init_from is not None:
            kept = f"nothing was saved; {args.init_from} is unchanged"
        else:
            kept = "nothing was saved"
        raise CLIError(f"training stopped at iteration {result.iteration + 1}: {what}; "
                       f"{kept}; try a lower --learning-rate or --grad-clip")
    if stop.requested:
        print(f"{PROG}: interrupted at iteration {trainer.iteration}; checkpoint saved to "
              f"{result.checkpoint} (continue with --init-from {result.checkpoint})",
              file=sys.stderr)
        return 130
    if state["budget_hit"]:
        log.info("Time budget of %g s reached at iteration %d (epoch %.2f)", budget,
                 trainer.iteration, trainer.epoch)
    checkpoint = result.checkpoint
    if result.reason != "done" or checkpoint is None:
        checkpoint = _final_eval(trainer)
    done_here = trainer.iteration - start_iter
    recorder.save(checkpoint, run_options(args), settings=s, corpus=corpus, seeds={"seed": s["seed"]},
                  mode=mode, evaluations=char_evaluations(trainer), iterations=trainer.iteration,
                  model=model, extra={"start_iteration": start_iter,
                                      "time_budget_hit": state["budget_hit"]})
    cps = None
    if not state["first"] and state["i_last"] > state["i_first"]:
        cps = ((state["i_last"] - state["i_first"]) * chars_per_batch
               / max(state["t_last"] - state["t_first"], 1e-9))
    log.info(
        "Trained %d iterations (now %d, epoch %.2f) in %.1f s; %s chars/s after the first "
        "iteration; last train loss %s, best val loss %s; checkpoint %s%s",
        done_here, trainer.iteration, trainer.epoch, elapsed,
        f"{cps:,.0f}" if cps else "-",
        f"{trainer.train_losses[-1][1]:.4f}" if trainer.train_losses else "-",
        f"{trainer.best_val_loss:.4f}" if trainer.best_val_loss is not None else "-",
        checkpoint, f", best {best}" if best.exists() else "",
    )
    if s["samples"]:
        _stream_sample(model, vocab, s["samples"], prime=s["prime"] or "",
                       temperature=s["temperature"], seed=s["seed"], sample_chars=sample_chars)
    return 0


def _saved_iteration(path):
    try:
        return io.read_metadata(path)["metadata"]["trainer"]["iteration"]
    except (CheckpointError, KeyError, TypeError):
        return "?"


def _write_out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def _stream_sample(model, vocab, length, *, prime, temperature, seed, sample_chars,
                   argmax=False, stop=None, prime_policy="unknown"):
    text = sample_chars(model, vocab, length, prime=prime, temperature=temperature,
                        argmax=argmax, rng=np.random.RandomState(seed), stop=stop,
                        on_text=_write_out, prime_policy=prime_policy)
    if not text.endswith("\n"):
        _write_out("\n")
    return text


# --------------------------------------------------------------------- sample-char


def _sample_char(args, show_progress, t_start):
    from theano_rnn.tasks.sampling import sample_chars

    mode = _check_mode(args.mode or "C")
    path = args.checkpoint
    if not Path(path).is_file():
        raise CLIError(f"no such checkpoint: {path}")
    if not is_char_checkpoint(path):
        io.read_metadata(path)  # a damaged file: a CheckpointError that says what is wrong
        raise CLIError(f"{path} is not a char-rnn checkpoint (for word-level models use "
                       f"'{PROG} generate {path}')")
    ck = io.load(path, mode=mode)
    if ck.index_to_word is None:
        raise CLIError(f"{path} stores no vocabulary")
    md = ck.metadata if isinstance(ck.metadata, dict) else {}
    vocab = CharVocab.from_list(ck.index_to_word, unknown=md.get("vocab_unknown"))
    n = getattr(args, "num_samples", 1)
    if args.seed + n > 2**32:
        raise CLIError(f"--seed {args.seed} with -n {n}: the seeds S..S+N-1 must be < 2**32",
                       status=2)
    for i in range(n):
        if i:
            _write_out("\n")
        log.info("Sampling %d characters from %r (temperature %g%s, seed %d)", args.length,
                 ck.model, args.temperature, ", argmax" if args.argmax else "", args.seed + i)
        _stream_sample(ck.model, vocab, args.length, prime=args.prime,
                       temperature=args.temperature, seed=args.seed + i,
                       sample_chars=sample_chars, argmax=args.argmax, stop=args.stop or None,
                       prime_policy=args.prime_policy)
    return 0


# ----------------------------------------------------------------------------- run

_HANDLERS = {"train-char": _train_char, "sample-char": _sample_char, "plot": plot_loss}


def run(args, show_progress=None) -> int:
    """Execute parsed ``train-char`` / ``sample-char`` / ``plot`` arguments.

    Returns the exit status (0 ok, 1 error, 2 usage error, 130 interrupted);
    errors are printed as one line on stderr.  ``show_progress`` defaults to
    "not --quiet and the log level is INFO or lower".  Logging is not
    configured here (see :func:`main`).
    """
    t_start = time.monotonic()
    command = getattr(args, "char_command", None) or getattr(args, "command", None)
    if command not in _HANDLERS:
        print(f"{PROG}: error: unknown char command {command!r}", file=sys.stderr)
        return 2
    return run_handler(_HANDLERS[command], args, show_progress, t_start,
                       (DataError, CheckpointError, ValueError, OSError), _broken_pipe)


def _broken_pipe():
    """stdout was closed early (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


def main(argv=None) -> int:
    """``python -m theano_rnn.cli.char COMMAND ...``: the char commands on their own."""
    return standalone_main(build_parser(), argv, COMMANDS, run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
