"""``utils.py`` of WildML part 2 (``rnn-tutorial-rnnlm``), same names and signatures.

What differs from the original, on purpose:

* Nothing is printed; progress and results go to :mod:`logging`, results are
  returned.
* ``save_model_parameters_theano`` writes through :func:`theano_rnn.io.save`:
  atomically (temporary file + rename), with metadata; the keys ``U``,
  ``V``, ``W`` are still there for ``np.load(f)["U"]``.  Unlike ``np.savez``
  it does not append ``.npz`` to the name.
* ``load_model_parameters_theano`` reads checkpoints of this package and
  files in the tutorial's layout (e.g. the shipped float32
  ``trained-model-theano.npz``).  When the stored sizes differ from the
  model's it calls ``model.resize`` (new shared variables, graphs rebuilt);
  the original only overwrote ``hidden_dim``/``word_dim`` and left stale
  graphs.  Missing keys or bad shapes raise :class:`~theano_rnn.io.CheckpointError`.
* ``gradient_check_theano`` checks the *untruncated* gradient (the original
  set ``bptt_truncate = 1000`` after compiling, which changed nothing) and
  returns a :class:`~theano_rnn.models.gradcheck.GradCheckReport` instead of printing.
* ``generate_sentence``/``generate_sentences`` (from the notebook) take the
  vocabulary and an explicit ``rng`` instead of using globals and
  ``np.random``.
"""

from __future__ import annotations

import logging

import numpy as np

from theano_rnn import io
from theano_rnn.models.gradcheck import gradient_check
from theano_rnn.tasks.sampling import generate_sentence_part2, generate_sentences_part2
from theano_rnn.training.tutorial import train_with_sgd

__all__ = [
    "softmax",
    "save_model_parameters_theano",
    "load_model_parameters_theano",
    "gradient_check_theano",
    "train_with_sgd",
    "generate_sentence",
    "generate_sentences",
]

log = logging.getLogger(__name__)


def softmax(x):
    """The tutorial's NumPy softmax: ``exp(x - max(x)) / sum(...)`` over all entries."""
    xt = np.exp(x - np.max(x))
    return xt / np.sum(xt)


def save_model_parameters_theano(outfile, model, *, index_to_word=None, metadata=None):
    """Save ``model`` to ``outfile`` (atomic; keys ``U``, ``V``, ``W`` + metadata).

    Returns the path written.  ``index_to_word``/``metadata`` are optional
    additions stored with the weights.
    """
    path = io.save(outfile, model, index_to_word=index_to_word, metadata=metadata)
    log.info("Saved model parameters to %s.", path)
    return path


def _required_keys(model):
    """The parameter keys every file for ``model``'s cell must hold (one-layer layout)."""
    mode = getattr(model, "input_mode", None)
    try:
        shapes = model.cell.param_shapes(2, 2, 1, mode)
    except TypeError:  # cells without input modes
        shapes = model.cell.param_shapes(2, 2, 1)
    return tuple(shapes)


def _load_into(path, model):
    """Put the weights stored in ``path`` into ``model`` (resizing it if needed)."""
    arrays = io.load_arrays(path)
    params = {
        k: v
        for k, v in arrays.items()
        if not k.startswith(("__", io.OPT_PREFIX, io.EXTRA_PREFIX))
    }
    cell = model.cell.name
    for key in _required_keys(model):
        if key not in params:
            raise io.CheckpointError(
                f"checkpoint {path}: missing key {key!r} for {'an' if cell == 'rnn' else 'a'} "
                f"{cell.upper()} (found {sorted(params)})"
            )
    try:
        _, C, H, L = io.infer_layout({k: v.shape for k, v in params.items()}, cell)
    except io.CheckpointError as exc:
        raise io.CheckpointError(f"checkpoint {path}: {exc}") from None
    same_size = (C, H, L) == (model.word_dim, model.hidden_dim, model.num_layers)
    if same_size and set(model.param_names) <= set(params):
        model.set_params({k: params[k] for k in model.param_names})
    else:
        log.info(
            "%s: stored layout word_dim=%d hidden_dim=%d num_layers=%d does not match the "
            "model's (%d, %d, %d): resizing the model and rebuilding its graphs",
            path, C, H, L, model.word_dim, model.hidden_dim, model.num_layers,
        )
        try:
            model.resize(params)
        except ValueError as exc:
            raise io.CheckpointError(f"checkpoint {path}: {exc}") from None
    opt = {k[len(io.OPT_PREFIX):]: v for k, v in arrays.items() if k.startswith(io.OPT_PREFIX)}
    if opt and model.get_optimizer_state():
        try:
            model.set_optimizer_state(opt)
        except ValueError as exc:
            raise io.CheckpointError(f"checkpoint {path}: {exc}") from None
    return model


def load_model_parameters_theano(path, model):
    """Load the weights in ``path`` into ``model`` (resizing it when needed).

    Reads a checkpoint of this package or a tutorial-layout ``U, V, W`` file
    (any float dtype: values are cast to the model's).  If the stored sizes
    differ from the model's, ``model.resize`` rebuilds it at the stored size
    (logged).  Raises :class:`~theano_rnn.io.CheckpointError` naming the
    missing key or the key with a bad shape.  Returns ``model``.
    """
    _load_into(path, model)
    log.info(
        "Loaded model parameters from %s. hidden_dim=%d word_dim=%d",
        path, model.hidden_dim, model.word_dim,
    )
    return model


def gradient_check_theano(model, x, y, h=0.001, error_threshold=0.01):
    """The tutorial's gradient check; returns a :class:`~theano_rnn.models.gradcheck.GradCheckReport`.

    A model truncated for this sentence is checked through an untruncated
    copy with the same weights (logged); see :func:`theano_rnn.models.gradcheck.gradient_check`.
    """
    report = gradient_check(model, x, y, h=h, error_threshold=error_threshold, rebuild=True)
    for name in report.parameters:
        if report.passed_for(name):
            log.info("Gradient check for parameter %s passed.", name)
        else:
            worst = max(report.for_parameter(name), key=lambda r: r.relative_error)
            log.warning(
                "Gradient Check ERROR: parameter=%s ix=%s backprop %g estimate %g "
                "relative error %g", name, worst.index, worst.backprop, worst.estimate,
                worst.relative_error,
            )
    return report


def generate_sentence(model, index_to_word, word_to_index, rng=None, max_length=100):
    """The notebook's ``generate_sentence``: the words between the markers.

    ``None`` when no ``SENTENCE_END`` comes within ``max_length`` words.

    See :func:`theano_rnn.tasks.sampling.generate_sentence_part2`.
    """
    return generate_sentence_part2(model, index_to_word, word_to_index, rng, max_length=max_length)


def generate_sentences(model, n, index_to_word, word_to_index, rng=None, min_length=7):
    """The notebook's loop: ``n`` sentences of at least ``min_length`` words (word lists).

    See :func:`theano_rnn.tasks.sampling.generate_sentences_part2`.
    """
    return generate_sentences_part2(
        model, n, index_to_word, word_to_index, rng, min_length=min_length
    )
