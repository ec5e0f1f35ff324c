"""theano_rnn.reference: the published figures as data, consistent, cited, and used.

Checks that every entry is well formed, that the keys the scripts and tests
ask for exist, that the project's own defaults agree with the published ones
they come from, that the values match ../shared/REFERENCE.md's text (when that
file is beside the shared data folder; the internal checks run either way),
and that no reproduction script still carries a published figure as a literal.
"""

from __future__ import annotations

import dataclasses
import doctest
import inspect
import math
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.shared_data import shared_data_dir
from theano_rnn import reference

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("reproduce_*.py")) + [ROOT / "scripts" / "_common.py"]
REFERENCE_MD = shared_data_dir().parent / "REFERENCE.md"
FIGURES = reference.figures()


def _scalar(x):
    return isinstance(x, (int, float, str, bool)) or (
        isinstance(x, tuple) and all(isinstance(y, (int, float, str)) for y in x))


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.key)
def test_every_entry_is_well_formed(fig):
    assert fig.source in reference.SOURCES and reference.SOURCES[fig.source]
    assert fig.where.strip() and fig.measures.strip()
    assert fig.compare in reference.COMPARISONS
    assert fig.origin in ("published", "measured")
    assert fig.kind in reference.KINDS
    v = fig.value
    assert isinstance(v, reference.KINDS[fig.kind]) and not isinstance(v, bool)
    if fig.kind == "count":
        assert v > 0
    elif fig.kind == "number":
        assert math.isfinite(v)
    elif fig.kind == "curve":
        assert len(v) >= 2 and all(type(x) is float for x in v)
    elif fig.kind == "table":
        assert len(v) >= 2 and all(type(k) is int and type(x) is float for k, x in v.items())
        assert list(v) == sorted(v)
    elif fig.kind == "settings":
        assert v and all(isinstance(k, str) and _scalar(x) for k, x in v.items())
    # tolerance iff compared within one
    assert (fig.tolerance is not None) == (fig.compare == "tolerance")
    if fig.tolerance is not None:
        assert 0 < fig.tolerance < abs(fig.value)
    assert fig.describe().startswith(fig.origin + " ") and fig.where in fig.describe()


def test_keys_are_unique_and_the_lookups_work():
    keys = [f.key for f in FIGURES]
    assert len(keys) == len(set(keys)) == len(reference.keys())
    assert all(re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", k) for k in keys)
    assert reference.get("wildml.part2.loss_curve").value[0] == 8.987425
    assert reference.value("udacity.valid_perplexity")[7000] == 4.25
    with pytest.raises(KeyError, match="did you mean wildml.part2.loss_curve"):
        reference.get("wildml.part2.loss_curv")
    gw = reference.figures(source="gwtaylor")
    assert gw and all(f.key.startswith("gwtaylor.") for f in gw)
    assert [f.key for f in reference.figures(prefix="gwtaylor.real")] == [
        "gwtaylor.real.loss_before", "gwtaylor.real.loss_after"]
    assert all(f.origin == "measured" for f in reference.figures(source="theano105"))
    assert {f.compare for f in reference.figures(compare="shape")} == {"shape"}
    with pytest.raises(ValueError, match="unknown source"):
        reference.figures(source="nowhere")
    with pytest.raises(ValueError, match="unknown comparison"):
        reference.figures(compare="roughly")
    assert set(reference.__all__) <= set(dir(reference))
    assert doctest.testmod(reference).failed == 0


def test_figures_are_immutable():
    fig = reference.get("wildml.part2.settings")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fig.value = {}
    with pytest.raises(TypeError):
        fig.value["seed"] = 11
    with pytest.raises(TypeError):
        reference.SOURCES["x"] = "y"
    assert isinstance(reference.value("wildml.part2.loss_curve"), tuple)


def _requested_keys(path):
    """The keys ``path`` asks ``reference.get/value`` for (f-strings: as patterns)."""
    text = path.read_text(encoding="utf-8")
    return re.findall(r"reference\.(?:get|value)\(\s*(f?)\"([^\"]+)\"", text)


def test_the_keys_the_scripts_and_tests_use_exist():
    users = SCRIPTS + [p for p in sorted((ROOT / "tests").rglob("test_*.py"))
                       if p.name != "test_reference.py"]  # it asks for a wrong key on purpose
    keys, seen = set(reference.keys()), 0
    for path in users:
        for is_f, key in _requested_keys(path):
            seen += 1
            if is_f:
                pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", r"[a-z0-9_]+", re.escape(key)))
                assert any(pattern.fullmatch(k) for k in keys), f"{path.name}: {key}"
            else:
                assert key in keys, f"{path.name}: {key}"
    assert seen >= 20


def test_the_project_defaults_agree_with_the_published_ones():
    from theano_rnn.cli.char_options import CHAR_DEFAULTS
    from theano_rnn.cli.classify import TRAIN_DEFAULTS
    from theano_rnn.models.udacity import UdacityLSTM
    from theano_rnn.tasks.classify.train import ClassifierTrainOptions
    from theano_rnn.tasks.seqpred import TASKS

    lua = reference.value("charrnn.train_defaults")
    assert set(reference.CHARRNN_TO_CLI) == set(lua) - {"print_every"}
    for option, cli_key in reference.CHARRNN_TO_CLI.items():
        assert CHAR_DEFAULTS[cli_key] == lua[option], option

    gw = reference.value("gwtaylor.task_settings")
    for task in TASKS:
        assert TASKS[task]["n_epochs"] == gw[f"n_epochs_{task}"]
        for k in ("n_in", "n_hidden", "learning_rate", "learning_rate_decay"):
            assert TASKS[task][k] == gw[k], (task, k)

    nb = reference.value("udacity.settings")
    params = inspect.signature(UdacityLSTM.__init__).parameters
    for k in ("vocabulary_size", "num_nodes", "batch_size", "num_unrollings", "learning_rate",
              "decay_steps", "decay_rate", "clip_norm"):
        assert params[k].default == nb[k], k

    tut = reference.value("lstm_sentiment.train_lstm_defaults")
    opts = ClassifierTrainOptions()
    assert (opts.batch_size, opts.valid_batch_size, opts.max_epochs, opts.patience,
            opts.disp_freq, opts.learning_rate, opts.seed) == (
        tut["batch_size"], tut["valid_batch_size"], tut["max_epochs"], tut["patience"],
        tut["dispFreq"], tut["lrate"], tut["SEED"])
    assert (TRAIN_DEFAULTS["embed_dim"], TRAIN_DEFAULTS["hidden_dim"], TRAIN_DEFAULTS["max_length"],
            TRAIN_DEFAULTS["optimizer"], TRAIN_DEFAULTS["decay_c"], TRAIN_DEFAULTS["dropout"]) == (
        tut["dim_proj"], tut["dim_proj"], tut["maxlen"], tut["optimizer"], tut["decay_c"],
        0.5 if tut["use_dropout"] else 0.0)


def test_internal_consistency():
    assert reference.value("wildml.part2.expected_random_loss") == pytest.approx(
        math.log(reference.value("wildml.part2.vocabulary_size")),
        abs=reference.get("wildml.part2.expected_random_loss").tolerance)
    curve = reference.value("wildml.part2.loss_curve")
    assert len(curve) == reference.value("wildml.part2.settings")["nepoch"]
    assert all(b < a for a, b in zip(curve, curve[1:]))
    assert abs(curve[0] - reference.value("wildml.part2.untrained_loss")) < 1e-3
    p4 = reference.value("wildml.part4.dev_run.losses")
    assert len(p4) == reference.value("wildml.part4.dev_run.settings")["nepoch"] + 1
    assert p4[0] == pytest.approx(math.log(2000), abs=0.01)
    ppl = reference.value("udacity.valid_perplexity")
    assert max(ppl) == reference.value("udacity.settings")["num_steps"] - 1
    assert ppl[0] < reference.value("udacity.settings")["vocabulary_size"]
    for task in ("real", "binary2", "softmax"):
        assert (reference.value(f"gwtaylor.{task}.loss_after")
                < reference.value(f"gwtaylor.{task}.loss_before"))
    assert reference.value("gwtaylor.softmax.loss_before") < math.log(3)
    s = reference.value("seed002.settings")
    clean = reference.value("seed002.clean_text")
    assert clean.startswith(s["prime"]) and len(clean) == 1 + s["next_len"]
    assert clean in (s["text"] + " ") * 2
    th = {f.key: f.value for f in reference.figures(source="theano105")}
    for dtype in ("float64", "float32"):
        assert (th[f"theano105.rnn.ce_error_ms.{dtype}"] < th[f"theano105.rnn.sgd_step_ms.truncate4.{dtype}"]
                < th[f"theano105.rnn.sgd_step_ms.full.{dtype}"])


def _md_checks():
    """(text that ../shared/REFERENCE.md must contain, built from the data)."""
    v = reference.value
    arrow = " \N{RIGHTWARDS ARROW} "
    gw = "; ".join(f"{t} {v(f'gwtaylor.{k}.loss_before')}{arrow}{v(f'gwtaylor.{k}.loss_after')}"
                   for t, k in (("binary", "binary2"), ("softmax", "softmax")))
    ppl = v("udacity.valid_perplexity")
    th = "theano105.rnn.sgd_step_ms"
    return [
        ", ".join(f"{x:.6f}" for x in v("wildml.part2.loss_curve")),
        f"ln 8000 = {v('wildml.part2.expected_random_loss'):.6f}",
        f"measured {v('wildml.part2.untrained_loss'):.6f}",
        f"NumPy {v('wildml.part2.sgd_step_ms.numpy'):.0f} ms",
        f"Theano {v('wildml.part2.sgd_step_ms.theano')} ms",
        f"{v('wildml.part2.sentences'):,} sentences, {v('wildml.part2.unique_tokens'):,} unique",
        arrow.join(f"{x:.3f}" for x in v("wildml.part4.dev_run.losses")),
        f"{v('wildml.part4.dev_run.sgd_step_ms'):.0f} ms per SGD step",
        f"test_real MSE {v('gwtaylor.real.loss_before')}{arrow}{v('gwtaylor.real.loss_after')}",
        gw,
        f"RNN MSE {v('gwtaylor.lstm_experiment.rnn')}, the seed's LSTM "
        f"{v('gwtaylor.lstm_experiment.lstm_seed'):.3f}, a standard 4-gate LSTM "
        f"{v('gwtaylor.lstm_experiment.lstm_standard'):.3f}",
        f"{ppl[0]:.2f} (step 0){arrow}{ppl[100]:.2f} (100){arrow}{ppl[1000]:.2f} (1000)",
        f"{ppl[7000]:.2f} (7000)",
        f"full BPTT {v(th + '.full.float64')} ms (float64) / {v(th + '.full.float32')} ms (float32)",
        f"`bptt_truncate=4` {v(th + '.truncate4.float64')} ms / {v(th + '.truncate4.float32')} ms",
        f"`ce_error` {v('theano105.rnn.ce_error_ms.float64')} ms / "
        f"{v('theano105.rnn.ce_error_ms.float32')} ms",
        f"{v('theano105.rnn.compile_s.first')} s on the first model",
        f"{v('theano105.rnn.compile_s.second')} s for the second",
        f"{v('charrnn.tinyshakespeare.characters'):,} characters, "
        f"{v('charrnn.tinyshakespeare.vocabulary')} distinct",
        f"{v('charrnn.default_model.parameters'):,} parameters",
        "ended at loss " + " / ".join(f"{x:.2f}" for x in v("seed002.printed_final_loss")),
        f"`seed` {v('charrnn.train_defaults')['seed']}",
        f"`eval_val_every` {v('charrnn.train_defaults')['eval_val_every']}",
        f"`HIDDEN_DIM` ({v('wildml.part2.train_theano_env')['HIDDEN_DIM']})",
    ]


def test_values_match_the_shared_reference_text():
    checks = _md_checks()
    assert len(checks) >= 20
    if not REFERENCE_MD.is_file():  # a clone without ../shared: the data checks above still ran
        return
    text = re.sub(r"\s+", " ", REFERENCE_MD.read_text(encoding="utf-8"))
    missing = [c for c in checks if c not in text]
    assert missing == []


def _literals(fig):
    """Distinctive spellings of ``fig``'s numbers (what a script would have written)."""
    values = fig.value.values() if isinstance(fig.value, Mapping) else (
        fig.value if isinstance(fig.value, tuple) else (fig.value,))
    out = set()
    for x in values:
        if isinstance(x, int):
            if x >= 10000:
                out |= {str(x), f"{x:_}", f"{x:,}"}
        elif isinstance(x, float):
            digits = repr(x).replace(".", "").lstrip("0")
            if len(digits.rstrip("0")) >= 3 or x < 0.01:  # 0.868, 64.5, 8.987425, 0.0062
                out.add(repr(x))
                if len(repr(x).split(".")[1]) < 6 and x > 1:  # 8.97627 printed as 8.976270
                    out.add(f"{x:.6f}")
    return out


def test_no_reproduction_script_carries_a_published_figure():
    figs = [f for f in FIGURES if f.kind in ("number", "count", "curve", "table")]
    literals = {s: f.key for f in figs for s in _literals(f)}
    assert "8.987425" in literals and "0.0062" in literals and "1_115_394" in literals
    found = []
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        for lit, key in literals.items():
            for m in re.finditer(r"(?<![\w.])" + re.escape(lit) + r"(?![\w])", text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.name}:{line}: {lit} ({key})")
    assert found == []
    users = [p.name for p in SCRIPTS if "from theano_rnn import" in p.read_text(encoding="utf-8")
             and "reference" in p.read_text(encoding="utf-8")]
    for name in ("reproduce_wildml_part2.py", "reproduce_wildml_part4.py", "reproduce_elman.py",
                 "reproduce_udacity.py", "reproduce_char.py", "reproduce_seed002.py"):
        assert name in users
