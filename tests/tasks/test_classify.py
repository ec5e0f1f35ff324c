"""Sequence classification (theano_rnn.tasks.classify.task, theano_rnn.cli.classify).

Tiny models (embedding and hidden size 8, bidirectional LSTM) on a synthetic
task: a text of letters is labelled "pos" when it contains the letter ``a``.
One classifier is trained once per module and shared; the CLI tests use the
same dimensions so PyTensor's compile cache is hit.
"""

import contextlib
import io as io_
import sys

import numpy as np
import pytest

from theano_rnn import io
from theano_rnn.cli import classify as classifycli
from theano_rnn.tasks.classify import task as seqclass
from theano_rnn.models.bidir import SequenceClassifier
from theano_rnn.errors import DataError

DIMS = dict(embed_dim=8, hidden_dim=8)
LETTERS = list("bcdefg")


def synthetic_records(n=240, seed=0, sep=""):
    """``("pos", text)`` when the text contains ``a``, else ``("neg", text)``; balanced."""
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        k = rng.randint(4, 12)
        s = list(rng.choice(LETTERS, k))
        label = "pos" if i % 2 else "neg"
        if label == "pos":
            s[rng.randint(k)] = "a"
        out.append((label, sep.join(s)))
    return out


@pytest.fixture(scope="module")
def data():
    return seqclass.prepare_data(synthetic_records(), tokens="char", seed=0)


class Shared:
    """One compiled classifier for every library test; :meth:`fresh` resets it."""

    def __init__(self, data):
        self.model = SequenceClassifier(len(data.vocab), len(data.labels), directions=2,
                                        dropout=0.5, seed=1, **DIMS)
        self.params = self.model.get_params()
        self.opt = self.model.get_optimizer_state()

    def fresh(self):
        self.model.set_params(self.params)
        self.model.set_optimizer_state(self.opt)
        return self.model


@pytest.fixture(scope="module")
def shared(data):
    return Shared(data)


@pytest.fixture(scope="module")
def trained(shared, data):
    """The shared model trained 25 epochs (dropout 0.5): (its parameters, the result)."""
    opts = seqclass.ClassifierTrainOptions(max_epochs=25, patience=10, eval_train=False, seed=3)
    result = seqclass.train_classifier(shared.fresh(), data, opts)
    return shared.model.get_params(), result


def use_trained(shared, trained):
    shared.model.set_params(trained[0])
    return shared.model


# ---------------------------------------------------------------------- data


def test_prepare_data_splits_vocab_and_length_rule(caplog):
    recs = [("x", "abc" * 50), ("y", "def")] * 10
    with caplog.at_level("WARNING", logger="theano_rnn.data.seq"):
        d = seqclass.prepare_data(recs, max_length=20, seed=0)
    assert [len(d.train), len(d.valid), len(d.test)] == [16, 2, 2]
    assert sorted(set(d.train.y.tolist())) == [0, 1]  # stratified: both classes everywhere
    assert sorted(set(d.test.y.tolist())) == [0, 1]
    assert max(len(s) for s in d.train.seqs) == 20  # truncated to the first 20 tokens
    assert d.vocab.decode(d.train.seqs[int(np.argmax(d.train.y == 0))][:3]) == ["a", "b", "c"]
    assert sum("truncated" in r.message for r in caplog.records) == 1  # one warning
    with pytest.raises(DataError, match="more than max_length=20"):
        seqclass.prepare_data(recs, max_length=20, on_long="error")
    with pytest.raises(DataError, match="at least 2 labels"):
        seqclass.prepare_data([("x", "ab")] * 5)


def test_vocab_comes_from_train_only():
    recs = [("x", "ab"), ("y", "cd")] * 8 + [("x", "ab")]
    d = seqclass.prepare_data(recs, seed=0)
    # a word only in valid/test would be <unk>: check that train tokens define the vocab
    train_tokens = {t for s in d.train.seqs for t in d.vocab.decode(s)}
    assert set(d.vocab.index_to_token) == train_tokens | {"<unk>"}
    seqs, unknown = seqclass.encode_texts(["abz"], d.vocab)
    assert unknown == 1 and seqs[0][-1] == d.vocab.unk_index


def test_poem_records(tmp_path):
    import json

    poems = [{"author": a, "paragraphs": [t, "。"]} for a, t in
             [("李白", "床前明月光"), ("杜甫", "國破山河在"), ("李白", "舉頭望明月"),
              ("王維", "空山不見人"), ("不詳", "無名"), ("不詳", "無名"), ("不詳", "無名")]]
    p = tmp_path / "poet.tang.0.json"
    p.write_text(json.dumps(poems, ensure_ascii=False), encoding="utf-8")
    recs = seqclass.load_poem_records([p], authors="李白,杜甫")
    assert recs == [("李白", "床前明月光。"), ("杜甫", "國破山河在。"), ("李白", "舉頭望明月。")]
    top = seqclass.load_poem_records([p], top_k=2)  # 不詳 is never chosen
    assert sorted({a for a, _ in top}) == ["李白", "杜甫"] or sorted({a for a, _ in top}) == ["李白", "王維"]
    with pytest.raises(DataError, match="no poems by '李商隱'"):
        seqclass.load_poem_records([p], authors=["李商隱"])


def test_word_tokens_from_tsv(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("".join(f"{lab}\t{txt}\n" for lab, txt in synthetic_records(30, sep=" ")),
                 encoding="utf-8")
    d = seqclass.prepare_data(seqclass.load_tsv_records(p), tokens="word", seed=0)
    assert set(d.vocab.index_to_token) <= set(LETTERS) | {"a", "<unk>"}
    assert d.labels.labels == ["neg", "pos"]


# ---------------------------------------------------------------- early stopping


def tutorial_stop(valid_errs, patience):
    """A literal transcription of train_lstm's bookkeeping; the validation index of the stop."""
    history_errs, best_p, bad_counter = [], None, 0
    for k, valid_err in enumerate(valid_errs):
        history_errs.append([valid_err, 0.0])
        if best_p is None or valid_err <= np.array(history_errs)[:, 0].min():
            best_p = k
            bad_counter = 0
        if len(history_errs) > patience and valid_err >= np.array(history_errs)[:-patience, 0].min():
            bad_counter += 1
            if bad_counter > patience:
                return k, best_p
    return None, best_p


def run_rule(valid_errs, patience):
    history, bad, best = [], 0, None
    for k, v in enumerate(valid_errs):
        history.append([v, 0.0])
        new_best, bad, stop = seqclass.early_stopping_step(history, bad, patience,
                                                           has_best=best is not None)
        if new_best:
            best = k
        if stop:
            return k, best
    return None, best


def test_early_stopping_rule_by_hand():
    # patience 2: best 0.3 at k=1; k=3.. are >= min(history[:-2]) -> bad 1, 2, 3 -> stop at k=5
    errs = [0.5, 0.3, 0.4, 0.4, 0.35, 0.45, 0.1]
    assert run_rule(errs, 2) == (5, 1)
    # an improvement resets the counter; an equal error counts as a new best (<=)
    errs = [0.5, 0.4, 0.45, 0.45, 0.4, 0.45, 0.45, 0.45, 0.45]
    assert run_rule(errs, 2) == tutorial_stop(errs, 2)
    assert run_rule(errs, 2)[1] == 4


def test_early_stopping_matches_the_tutorial_on_random_sequences():
    rng = np.random.RandomState(0)
    stops = set()
    for trial in range(200):
        patience = int(rng.randint(1, 5))
        errs = np.round(rng.uniform(0.1, 0.5, size=rng.randint(1, 30)), 1).tolist()
        got = run_rule(errs, patience)
        assert got == tutorial_stop(errs, patience), (errs, patience)
        stops.add(got[0] is None)
    assert stops == {True, False}  # both stopping and non-stopping cases were exercised


# ------------------------------------------------------------- train / evaluate


def test_tiny_model_learns_the_task(trained, data):
    _, result = trained
    assert result.reason == "done" and result.updates == 25 * 12
    assert result.test.accuracy >= 0.9 > result.majority_baseline + 0.3
    assert result.majority_baseline == pytest.approx(0.5)
    assert result.valid.accuracy >= 0.9
    assert result.test.confusion.sum() == len(data.test)
    assert len(result.history) == 25 and result.history[-1]["update"] == 300


def test_evaluation_does_not_depend_on_the_batch_size(shared, trained, data):
    model = use_trained(shared, trained)
    seqs, y = data.valid.seqs + data.test.seqs, np.concatenate([data.valid.y, data.test.y])
    p1 = seqclass.predict_proba(model, seqs, batch_size=1)
    p7 = seqclass.predict_proba(model, seqs, batch_size=7)
    pall = seqclass.predict_proba(model, seqs, batch_size=len(seqs))
    np.testing.assert_allclose(p7, p1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pall, p1, rtol=0, atol=1e-12)
    e1, e5 = seqclass.evaluate(model, seqs, y, 1), seqclass.evaluate(model, seqs, y, 5)
    assert e1.accuracy == e5.accuracy and (e1.confusion == e5.confusion).all()
    assert e1.per_class_total.sum() == len(y)


def test_resume_is_bit_identical(shared, data, tmp_path):
    """N updates straight == k updates + checkpoint + resume + the rest (dropout on)."""
    opts = dict(max_epochs=3, patience=10, eval_train=False, seed=5, valid_freq=5)
    tr = seqclass.ClassifierTrainer(shared.fresh(), data, seqclass.ClassifierTrainOptions(**opts))
    r1 = tr.run(max_updates=30)
    straight = (shared.model.get_params(), shared.model.get_optimizer_state(), tr.best_params)
    ck = tmp_path / "part.npz"
    part = seqclass.ClassifierTrainer(shared.fresh(), data,
                                      seqclass.ClassifierTrainOptions(**opts), checkpoint_path=ck)
    r_part = part.run(max_updates=17)  # stops inside epoch 2, between validations
    assert r_part.reason == "max_updates" and part.position == 5
    st = io.read_metadata(ck)["metadata"]["trainer"]  # the one RNG encoding
    assert st["rng_state"]["type"] == "RandomState" and "rng" not in st
    assert "extra/rng_keys" not in io.load_arrays(ck)
    shared.fresh()  # forget everything: the checkpoint must hold it all
    resumed = seqclass.ClassifierTrainer.resume(ck, data, model=shared.model)
    assert resumed.uidx == 17 and resumed.position == 5 and resumed.perm is not None
    r2 = resumed.run(max_updates=13)
    assert r2.updates == r1.updates == 30
    for got, want in zip((shared.model.get_params(), shared.model.get_optimizer_state(),
                          resumed.best_params), straight):
        assert got.keys() == want.keys()
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert resumed.history_errs == tr.history_errs and resumed.bad_counter == tr.bad_counter
    assert resumed.rng.get_state()[1].tolist() == tr.rng.get_state()[1].tolist()


def test_checkpoint_model_is_the_best_and_predicts(shared, trained, data, tmp_path):
    model = use_trained(shared, trained)
    tr = seqclass.ClassifierTrainer(model, data, seqclass.ClassifierTrainOptions(eval_train=False))
    tr.best_params = model.get_params()
    model.set_params(shared.params)  # the current parameters differ from the best
    path = tr.save(tmp_path / "m.npz")
    loaded = seqclass.load_classifier(path)
    assert loaded.metadata["kind"] == "classify"
    for name, value in trained[0].items():  # the model in the file is the best one
        np.testing.assert_array_equal(loaded.model.get_params()[name], value)
    model.set_params(loaded.model.get_params())
    probs = seqclass.predict_texts(model, data.vocab, data.labels, ["bcad", "bcdd"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert data.labels.decode(probs.argmax(axis=1)) == ["pos", "neg"]


def test_nan_cost_stops_before_saving(shared, data, tmp_path):
    model = shared.fresh()
    params = model.get_params()
    params["V"][:] = np.nan
    model.set_params(params)
    ck = tmp_path / "nan.npz"
    tr = seqclass.ClassifierTrainer(model, data, seqclass.ClassifierTrainOptions(),
                                    checkpoint_path=ck)
    result = tr.run()
    assert result.reason == "nan" and result.updates == 0 and not ck.exists()


def test_interrupt_saves_the_last_update(shared, data, tmp_path):
    ck = tmp_path / "int.npz"
    tr = seqclass.ClassifierTrainer(shared.fresh(), data,
                                    seqclass.ClassifierTrainOptions(eval_train=False),
                                    checkpoint_path=ck)

    def progress(update, epoch, cost):
        if update == 3:
            raise KeyboardInterrupt

    result = tr.run(progress=progress)
    assert result.reason == "interrupted" and ck.exists()
    assert seqclass.ClassifierTrainer.resume(ck, data, model=shared.model).uidx == 3


def test_options_are_checked():
    with pytest.raises(ValueError, match="patience must be >= 1"):
        seqclass.ClassifierTrainOptions(patience=0).validate()
    with pytest.raises(ValueError, match="patience must be >= 1"):
        seqclass.early_stopping_step([[0.1, 0.2]], 0, 0)


# ----------------------------------------------------------------------- CLI


def cli(args, capsys):
    status = classifycli.main(["classify", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def tsv(tmp_path_factory):
    d = tmp_path_factory.mktemp("clf")
    p = d / "tiny.tsv"
    p.write_text("".join(f"{lab}\t{txt}\n" for lab, txt in synthetic_records(120, sep=" ")),
                 encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def cli_run(tsv):
    """``classify train`` on the tiny TSV: (checkpoint, stdout)."""
    out = tsv.parent / "clf.npz"
    buf = io_.StringIO()
    with contextlib.redirect_stdout(buf):
        status = classifycli.main(["classify", "train", "--data", str(tsv), "--embed-dim", "8",
                                   "--hidden-dim", "8", "--max-epochs", "4", "--dropout", "0",
                                   "--output", str(out), "-q"])
    assert status == 0
    return out, buf.getvalue()


@pytest.fixture(scope="module")
def cli_ckpt(cli_run):
    return cli_run[0]


def test_cli_train_prints_accuracy_baseline_and_classes(cli_run):
    out = cli_run[1]
    assert "max epochs after 24 updates" in out
    assert "test accuracy" in out and "majority baseline 0.5000" in out
    assert "\n  neg\t" in out and "\n  pos\t" in out


def test_cli_train_and_predict_end_to_end(cli_ckpt, tsv, tmp_path, capsys, monkeypatch):
    meta = io.read_metadata(cli_ckpt)
    assert meta["metadata"]["kind"] == "classify"
    assert meta["metadata"]["trainer"]["uidx"] == 4 * 6
    texts = tmp_path / "texts.txt"
    texts.write_text("b c a d\nb c d\n", encoding="utf-8")
    status, out, err = cli(["predict", str(cli_ckpt), str(texts), "--top-k", "2", "-q"], capsys)
    assert status == 0 and err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("1\t") and lines[1].split("\t")[1] in ("neg", "pos")
    assert "neg" in lines[0] and "pos" in lines[0]  # top 2 of 2 labels
    # labelled lines on stdin: the accuracy too
    stdin = io_.TextIOWrapper(io_.BytesIO(tsv.read_bytes()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, _ = cli(["predict", str(cli_ckpt), "-", "-q"], capsys)
    assert status == 0 and out.strip().splitlines()[-1].startswith("accuracy ")
    assert len(out.strip().splitlines()) == 121
    status, out, _ = cli(["predict", str(cli_ckpt), "--text", "a b c", "--top-k", "1", "-q"], capsys)
    assert status == 0 and len(out.strip().split("\t")) == 3


def test_cli_resume_continues_and_refuses_other_settings(cli_ckpt, tsv, tmp_path, capsys,
                                                         monkeypatch):
    status, out, err = cli(["train", "--init-from", str(cli_ckpt), "--hidden-dim", "16", "-q"],
                           capsys)
    assert status == 1 and "--hidden-dim 16 does not match" in err
    status, out, err = cli(["train", "--init-from", str(cli_ckpt), "-q"], capsys)
    assert status == 1 and "pass a larger --max-epochs" in err
    # continue with a larger --max-epochs; a Ctrl-C (the stop flag) after the first update
    # saves the state and exits with 130
    enter = classifycli._StopFlag.__enter__

    def enter_and_press_ctrl_c(self):
        enter(self)
        self.requested = True
        return self

    monkeypatch.setattr(classifycli._StopFlag, "__enter__", enter_and_press_ctrl_c)
    more = tmp_path / "more.npz"
    status, out, err = cli(["train", "--init-from", str(cli_ckpt), "--max-epochs", "5",
                            "--output", str(more), "-q"], capsys)
    assert status == 130, err
    assert f"continue with --init-from {more}" in err
    st = io.read_metadata(more)["metadata"]["trainer"]
    assert st["uidx"] == 4 * 6 + 1 and st["epoch"] == 4 and st["position"] == 1


def test_cli_errors_are_one_line(cli_ckpt, tmp_path, capsys):
    def err_of(args, status=1):
        got, out, err = cli([*args, "-q"], capsys)
        assert got == status, err
        assert err.startswith("theano-rnn: error: ") and err.count("\n") == 1, err
        return err

    bad = tmp_path / "bad.tsv"
    bad.write_text("neg\ta b\nzzz\tc d\n", encoding="utf-8")
    e = err_of(["predict", str(cli_ckpt), str(bad)])
    assert "unknown label 'zzz'" in e and "line 2" in e and "neg, pos" in e
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert "no text lines" in err_of(["predict", str(cli_ckpt), str(empty)])
    long = tmp_path / "long.txt"
    long.write_text("a " * 150 + "\n", encoding="utf-8")
    e = err_of(["predict", str(cli_ckpt), str(long), "--on-long", "error"])
    assert "line 1" in e and "150 tokens" in e and "100" in e
    assert "no such checkpoint" in err_of(["predict", str(tmp_path / "missing.npz"), str(long)])
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip file")
    assert "corrupt.npz" in err_of(["predict", str(corrupt), str(long)])
    from theano_rnn.models.word import RNNTheano

    other = tmp_path / "rnn.npz"
    io.save(other, RNNTheano(5, 3))
    assert "not a sequence-classifier checkpoint" in err_of(["predict", str(other), str(long)])
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("neg\ta b\nc d\n", encoding="utf-8")
    assert "line 2 has no label" in err_of(["predict", str(cli_ckpt), str(mixed)])
    assert "FILE" in err_of(["predict", str(cli_ckpt)], status=2)
    assert "--poems" in err_of(["train"], status=2)
    assert "no tab" in err_of(["train", "--data", str(long), "--output", str(tmp_path / "x.npz")])
    assert not (tmp_path / "x.npz").exists()
    assert "invalid choice" in err_of(["train", "--data", "x", "--on-long", "skip"], status=2)
    assert "exclude each other" in err_of(["train", "--poems", "a.json", "--data", "b.tsv"],
                                          status=2)
    poems = tmp_path / "p.json"
    poems.write_text('[{"author": "李白", "paragraphs": ["床前明月光"]}]', encoding="utf-8")
    assert "no poems by '杜甫'" in err_of(["train", "--poems", str(poems), "--authors", "李白,杜甫"])
