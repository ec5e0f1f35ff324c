"""The cloze task (theano_rnn.tasks.cloze.task, theano_rnn.cli.cloze).

A synthetic task the backward direction is needed for: sentences of digit
fillers around one word, ``1 3 cherry 7 2``, where the word (the only
alphabetic token, so the only possible blank) is a fixed function of its
RIGHT neighbour and independent of everything on its left.  A bidirectional
model must reach ~100%; a forward-only model of the same size cannot beat
chance (1 in 5).  Tiny simple-RNN models (8 units) keep compilation short;
models are shared through module-scoped fixtures.
"""

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.tasks.cloze import task as cloze
from theano_rnn.cli import cloze as clozecli
from theano_rnn.models.bidir import ClozeModel, SequenceClassifier
from theano_rnn.errors import DataError
from theano_rnn.errors import TrainingError

SHARED_ENV = os.environ.get("THEANO_RNN_SHARED_DATA")
NLTK_DATA = Path(SHARED_ENV) / "nltk_data" if SHARED_ENV else None
if NLTK_DATA is not None and not NLTK_DATA.is_dir():
    NLTK_DATA = None

KEYS = ["5", "6", "7", "8", "9"]
WORDS = ["apple", "berry", "cherry", "date", "elder"]
FILLERS = ["0", "1", "2", "3", "4", ","]
TINY = dict(cell="rnn", embed_dim=8, hidden_dim=8)


def synthetic_sentences(n, seed):
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n):
        k = rng.randint(len(KEYS))
        left = [FILLERS[i] for i in rng.randint(len(FILLERS), size=rng.randint(1, 4))]
        right = [FILLERS[i] for i in rng.randint(len(FILLERS), size=rng.randint(1, 4))]
        out.append(left + [WORDS[k], KEYS[k]] + right)
    return out


@pytest.fixture(scope="module")
def synth():
    return cloze.prepare_cloze_data(synthetic_sentences(600, 0), vocabulary_size=100, seed=3)


def _train(data, directions, tmp_path_factory, epochs=8):
    model = ClozeModel(len(data.vocab), directions=directions, seed=1, **TINY)
    out = tmp_path_factory.mktemp(f"dirs{directions}") / "m.npz"
    result = cloze.train_cloze(model, data, epochs=epochs, batch_size=16, learning_rate=0.02,
                               seed=5, checkpoint_path=out)
    return model, result, out


@pytest.fixture(scope="module")
def bi(synth, tmp_path_factory):
    return _train(synth, 2, tmp_path_factory)


@pytest.fixture(scope="module")
def uni(synth, tmp_path_factory):
    return _train(synth, 1, tmp_path_factory)


# ------------------------------------------------------------------------ data


def test_synthetic_data_blanks_only_the_word(synth):
    assert len(synth.train) == 480 and len(synth.valid) == 60 and len(synth.test) == 60
    for ids, p in zip(synth.test, synth.test_positions):
        assert synth.vocab.index_to_token[ids[p]] in WORDS
        word = synth.vocab.index_to_token[ids[p]]
        assert synth.vocab.index_to_token[ids[p + 1]] == KEYS[WORDS.index(word)]
    assert synth.vocab.index_to_token[:2] == ["<blank>", "<unk>"]


def test_prepare_is_seeded_and_vocab_comes_from_train():
    sents = synthetic_sentences(50, 1) + [["zebra", "only", "in", "one", "sentence"]]
    a = cloze.prepare_cloze_data(sents, vocabulary_size=100, seed=7)
    b = cloze.prepare_cloze_data(sents, vocabulary_size=100, seed=7)
    assert a.vocab == b.vocab and all(np.array_equal(x, y) for x, y in zip(a.test, b.test))
    assert np.array_equal(a.test_positions, b.test_positions)
    train_tokens = {t for i in range(len(a.train)) for t in a.vocab.decode(a.train[i])}
    assert set(a.vocab.index_to_token) - {"<blank>", "<unk>"} <= train_tokens
    with pytest.raises(DataError, match="cannot split"):
        cloze.prepare_cloze_data(sents[:2], vocabulary_size=10, seed=0)


def test_default_corpus_documents_give_sentences():
    sents = cloze.sentences_from_documents(
        ["The cat sat on the mat. The dog ran to the park quickly.",
         "Short. A much longer one here."],
        nltk_data=NLTK_DATA, min_length=4, max_length=40)
    assert ["the", "cat", "sat", "on", "the", "mat", "."] in sents
    assert all(len(s) >= 4 for s in sents)


# ------------------------------------------------------------------ learning


def test_bidirectional_solves_the_right_context_task(bi, synth):
    model, result, _ = bi
    assert result.reason == "done" and result.epoch == 8
    ev = cloze.evaluate_cloze(model, synth.test, synth.test_positions)
    assert ev.accuracy >= 0.95, ev
    assert ev.top5 == 1.0
    assert ev.mean_log_likelihood > -0.3


def test_forward_only_cannot_beat_chance(uni, synth):
    model, result, _ = uni
    ev = cloze.evaluate_cloze(model, synth.test, synth.test_positions)
    # 5 equally likely words, none predictable from the left: chance is 0.2
    assert ev.accuracy < 0.4, ev
    assert ev.mean_log_likelihood < -1.3  # ~log(1/5) = -1.61 at best
    assert ev.top5 == 1.0  # it does learn that the answer is one of the 5 words


def test_evaluation_does_not_depend_on_batching(bi, synth):
    model = bi[0]
    ref = cloze.evaluate_cloze(model, synth.test, synth.test_positions, batch_size=60)
    for bs in (1, 7, 16):
        ev = cloze.evaluate_cloze(model, synth.test, synth.test_positions, batch_size=bs)
        assert ev.n == ref.n == 60
        assert ev.accuracy == ref.accuracy and ev.top5 == ref.top5
        assert ev.mean_log_likelihood == pytest.approx(ref.mean_log_likelihood, abs=1e-12)
        assert ev.perplexity == pytest.approx(np.exp(-ev.mean_log_likelihood), rel=1e-12)
    with pytest.raises(DataError, match="blank positions"):
        cloze.evaluate_cloze(model, synth.test, synth.test_positions[:3])


def test_unigram_baseline(synth):
    ev, word = cloze.unigram_baseline(synth)
    assert word in WORDS and ev.n == 60 and ev.top5 == 1.0
    assert 0.05 < ev.accuracy < 0.45
    assert ev.mean_log_likelihood == pytest.approx(np.log(0.2), abs=0.1)


def test_history_and_checkpoints(bi):
    model, result, out = bi
    assert [h["epoch"] for h in result.history] == list(range(1, 9))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.checkpoint == str(out) and Path(result.best_checkpoint).is_file()
    ck = cloze.load_cloze_checkpoint(out)
    assert ck.metadata["kind"] == "cloze" and ck.metadata["trainer"]["epoch"] == 8
    for name, value in model.get_params().items():
        np.testing.assert_array_equal(ck.model.get_params()[name], value)
    assert cloze.is_cloze_checkpoint(out) and not cloze.is_cloze_checkpoint(out.parent / "nope.npz")


# ----------------------------------------------------------------- exact resume


@pytest.fixture(scope="module")
def small():
    return cloze.prepare_cloze_data(synthetic_sentences(90, 2), vocabulary_size=100, seed=4)


def test_exact_resume_mid_epoch_and_between_epochs(small, tmp_path):
    """2 epochs straight == 1 epoch, resume, stop inside epoch 2, resume, finish (bit for bit)."""
    kw = dict(batch_size=8, learning_rate=0.01, seed=9)
    straight = ClozeModel(len(small.vocab), seed=2, **TINY)
    cloze.train_cloze(straight, small, epochs=2, checkpoint_path=tmp_path / "a.npz", **kw)

    m = ClozeModel(len(small.vocab), seed=2, **TINY)
    path = tmp_path / "b.npz"
    cloze.train_cloze(m, small, epochs=1, checkpoint_path=path, **kw)
    nb = -(-len(small.train) // 8)
    # continued from the end-of-epoch checkpoint, stopped at batch 3 of epoch 2
    trainer = cloze.ClozeTrainer.resume(path, small,
                                        options=cloze.ClozeTrainOptions(epochs=2, **kw))
    assert (trainer.epoch, trainer.batch, trainer.step, trainer.order) == (1, 0, nb, None)
    r = trainer.run(should_stop=lambda: trainer.step == nb + 3)
    assert r.reason == "stopped" and r.step == nb + 3 and r.checkpoint == str(path)
    resumed = cloze.ClozeTrainer.resume(path, small)
    assert (resumed.epoch, resumed.batch, resumed.step) == (1, 3, nb + 3)
    np.testing.assert_array_equal(resumed.order, trainer.order)
    r2 = resumed.run()
    assert r2.reason == "done" and r2.step == 2 * nb
    for name, value in straight.get_params().items():
        np.testing.assert_array_equal(resumed.model.get_params()[name], value, err_msg=name)
    for name, value in straight.get_optimizer_state().items():
        np.testing.assert_array_equal(resumed.model.get_optimizer_state()[name], value,
                                      err_msg=name)
    a = io.load_arrays(tmp_path / "a.npz")
    b = io.load_arrays(path)
    ha = io.read_metadata(tmp_path / "a.npz")["metadata"]["trainer"]
    hb = io.read_metadata(path)["metadata"]["trainer"]
    # the one RNG encoding (training.trainer.rng_state), no separate key array
    assert "extra/rng_keys" not in a and "extra/rng_keys" not in b
    assert ha["rng_state"]["type"] == "RandomState"
    assert ha["rng_state"] == hb["rng_state"]
    assert [h["train_loss"] for h in ha["history"]] == [h["train_loss"] for h in hb["history"]]
    assert ha["best_valid"]["mean_log_likelihood"] == hb["best_valid"]["mean_log_likelihood"]


def test_nan_loss_keeps_the_last_good_checkpoint(small, tmp_path):
    m = ClozeModel(len(small.vocab), seed=2, **TINY)
    out = tmp_path / "n.npz"
    trainer = cloze.ClozeTrainer(m, small, cloze.ClozeTrainOptions(epochs=1, batch_size=8),
                                 checkpoint_path=out)
    trainer.save()
    before = out.read_bytes()
    bad = m.get_params()
    bad["V"][:] = np.nan
    m.set_params(bad)
    r = trainer.run()
    assert r.reason == "nan" and r.checkpoint is None and r.step == 0
    assert out.read_bytes() == before
    m.set_params(dict(bad, V=np.zeros_like(bad["V"])))
    with pytest.raises(TrainingError, match="diverged"):
        cloze.train_cloze(m, small, epochs=1, batch_size=8, learning_rate=1e308)


# -------------------------------------------------------------------- prediction


def test_predict_blank_ranks_the_right_word(bi, synth):
    model = bi[0]
    for key, word in zip(KEYS, WORDS):
        preds = cloze.predict_blank(model, synth.vocab, f"1 , ___ {key} 3", top_k=4)
        assert preds[0][0] == word and preds[0][1] > 0.5
        assert len(preds) == 4
        probs = [p for _, p in preds]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-12
    everything = cloze.predict_blank(model, synth.vocab, "1 ___ 5 2", top_k=1000)
    words = [w for w, _ in everything]
    assert "<blank>" not in words and "<unk>" not in words
    assert len(words) == len(synth.vocab) - 2
    assert sum(p for _, p in everything) <= 1 + 1e-12
    with pytest.raises(DataError, match="no blank"):
        cloze.predict_blank(model, synth.vocab, "1 2 3")
    with pytest.raises(DataError, match="2 blanks"):
        cloze.predict_blank(model, synth.vocab, "___ 2 ___")
    with pytest.raises(DataError, match="more than the limit"):
        cloze.predict_blank(model, synth.vocab, "1 " * 10 + "___", max_length=5)


# --------------------------------------------------------------------------- CLI

# one sentence per paragraph, so the sentences are the same whether Punkt comes from
# $THEANO_RNN_SHARED_DATA/nltk_data or is trained on this tiny text
TEXT = "\n\n".join([
    "The cat sat on the mat.", "The dog sat on the rug.", "A bird sang in the tree.",
    "The cat ate the fish.", "The dog ate the bone.", "A bird ate the seed.",
    "We walked to the park and the dog ran after the ball.", "The cat slept on the mat.",
] * 6) + "\n"


@pytest.fixture(scope="module")
def cli_trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    corpus = d / "tiny.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = d / "c.npz"
    args = ["train-cloze", "--corpus", str(corpus), "--cell", "rnn", "--embed-dim", "8",
            "--hidden-dim", "8", "--epochs", "1", "--batch-size", "8", "--max-length", "12",
            "--output", str(out), "-q", "--examples", "2"]
    if NLTK_DATA is not None:
        args += ["--nltk-data", str(NLTK_DATA)]
    return d, corpus, out, args


def test_cli_train_then_cloze(cli_trained, capsys):
    d, corpus, out, args = cli_trained
    assert clozecli.main(args) == 0
    text = capsys.readouterr().out
    for what in ("accuracy", "top-5 accuracy", "mean log-likelihood", "perplexity",
                 "unigram baseline", "examples:", "answer:"):
        assert what in text
    assert out.is_file() and (d / "c_best.npz").is_file()
    assert clozecli.main(["cloze", str(out), "the cat sat on the ___ .", "--top-k", "3", "-q"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    words = [ln.split("\t")[0] for ln in lines]
    probs = [float(ln.split("\t")[1]) for ln in lines]
    assert "<blank>" not in words and probs == sorted(probs, reverse=True) and sum(probs) <= 1
    # --marker and a run of underscores
    argv = ["cloze", str(out), "the cat sat on the @@ .", "--marker", "@@", "-q"]
    assert clozecli.main(argv) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 10


def _err(argv, capsys):
    status = clozecli.main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.strip()


def test_cli_cloze_errors(cli_trained, tmp_path, capsys):
    d, corpus, out, args = cli_trained
    if not out.exists():
        assert clozecli.main(args) == 0
        capsys.readouterr()
    q = ["-q"]
    status, err = _err(["cloze", str(out), "no blank here", *q], capsys)
    assert status == 1
    assert err == "theano-rnn: error: no blank in 'no blank here': mark the missing word with ___"
    status, err = _err(["cloze", str(out), "___ and ___", *q], capsys)
    assert status == 1 and "found 2 blanks" in err and err.count("\n") == 0
    status, err = _err(["cloze", str(out), "the " * 12 + "___", *q], capsys)
    assert status == 1 and "13 tokens" in err and "at most 12 tokens" in err
    status, err = _err(["cloze", str(tmp_path / "missing.npz"), "a ___", *q], capsys)
    assert status == 1 and "no such checkpoint" in err
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip file")
    status, err = _err(["cloze", str(corrupt), "a ___", *q], capsys)
    assert status == 1 and "cannot read checkpoint" in err
    clf = tmp_path / "clf.npz"
    io.save(clf, SequenceClassifier(10, 3, cell="rnn", embed_dim=4, hidden_dim=4),
            index_to_word=[f"w{i}" for i in range(10)])
    status, err = _err(["cloze", str(clf), "a ___", *q], capsys)
    assert status == 1 and "not a cloze checkpoint" in err and "sequence classifier" in err
    from theano_rnn.models.char import CharRNN

    char = tmp_path / "char.npz"
    io.save(char, CharRNN(5, "rnn", 4, 1), index_to_word=list("abcde"))
    status, err = _err(["cloze", str(char), "a ___", *q], capsys)
    assert status == 1 and "not a cloze checkpoint" in err and "char-rnn" in err
    status, err = _err(["cloze", str(out), "a ___", "--top-k", "0", *q], capsys)
    assert status == 2
    status, err = _err(["train-cloze", "--corpus", str(tmp_path / "none.txt"), *q], capsys)
    assert status == 1 and "no such file" in err
    status, err = _err(["train-cloze", "--init-from", str(clf), *q], capsys)
    assert status == 1 and "not a cloze checkpoint" in err
    status, err = _err(["train-cloze", "--init-from", str(out), "--hidden-dim", "9", *q], capsys)
    assert status == 1 and "--hidden-dim 9 does not match" in err
    status, err = _err(["train-cloze", "--init-from", str(out), *q], capsys)
    assert status == 1 and "already trained 1 epochs" in err
    status, err = _err(["train-cloze", "--min-length", "9", "--max-length", "5", *q], capsys)
    assert status == 2 and "larger than --max-length" in err
    assert clozecli.main([]) == 2


def test_cli_interrupt_saves_and_resume_finishes(cli_trained, tmp_path, capsys, monkeypatch):
    d, corpus, out, args = cli_trained
    calls = {"n": 0}
    real = ClozeModel.train_step

    def step_then_interrupt(self, *a, **k):
        loss = real(self, *a, **k)
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during training
        return loss

    monkeypatch.setattr(ClozeModel, "train_step", step_then_interrupt)
    run = tmp_path / "r.npz"
    base = [a for a in args if a not in (str(out),)]
    base[base.index("--output") + 1] = str(run)
    base[base.index("--epochs") + 1] = "2"
    status = clozecli.main(base)
    err = capsys.readouterr().err
    assert status == 130 and "--init-from" in err
    st = io.read_metadata(run)["metadata"]["trainer"]
    assert st["step"] == 2 and st["in_epoch"] and st["batch"] == 2
    monkeypatch.setattr(ClozeModel, "train_step", real)
    assert clozecli.main(["train-cloze", "--init-from", str(run), "-q", "--examples", "0"]) == 0
    capsys.readouterr()
    st = io.read_metadata(run)["metadata"]["trainer"]
    assert st["epoch"] == 2 and not st["in_epoch"] and len(st["history"]) == 2
