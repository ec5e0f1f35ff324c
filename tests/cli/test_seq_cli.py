"""``theano-rnn seq demo|train``: runs, output policy, one-line errors."""

import numpy as np
import pytest

from theano_rnn.cli.main import main
from theano_rnn.models.elman import load_metarnn


def run(capsys, *argv):
    status = main(["seq", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status, err):
    assert status != 0
    lines = [line for line in err.splitlines() if line.strip() and "INFO" not in line]
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in err, err


def test_demo_writes_a_model_and_never_replaces_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo", "--task", "real", "--epochs", "1", "--quiet")
    assert status == 0, err
    assert "train loss 0.8678 ->" in out
    assert (tmp_path / "elman_real.npz").exists()
    model = load_metarnn(tmp_path / "elman_real.npz")
    assert model.n_hidden == 10 and model.output_type == "real"
    status, out, err = run(capsys, "demo", "--task", "real", "--epochs", "1", "--quiet")
    assert status == 0 and (tmp_path / "elman_real_2.npz").exists()
    status, out, err = run(capsys, "demo", "--task", "real", "--epochs", "1", "--quiet",
                           "--output", str(tmp_path / "elman_real.npz"))
    one_line_error(status, err)
    assert "--overwrite" in err


def test_train_on_own_arrays(tmp_path, capsys):
    r = np.random.RandomState(0)
    X = r.randn(8, 6, 5)
    Y = (X[:, :, :1] > 0).astype(int)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    out_path = tmp_path / "m.npz"
    status, out, err = run(capsys, "train", "--x", str(tmp_path / "x.npy"), "--y",
                           str(tmp_path / "y.npy"), "--output-type", "binary", "--epochs", "2",
                           "--weight-seed", "1", "--output", str(out_path), "--quiet")
    assert status == 0, err
    assert load_metarnn(out_path).output_type == "binary"


@pytest.mark.parametrize("case", ["missing", "shape", "binary", "labels", "nan"])
def test_bad_input_is_one_line(tmp_path, capsys, case):
    X = np.random.RandomState(0).randn(4, 3, 2)
    Y = np.zeros((4, 3, 1))
    kind = "binary"
    if case == "shape":
        Y = np.zeros((4, 2, 1))
    elif case == "binary":
        Y = Y + 0.5
    elif case == "labels":
        Y, kind = np.full((4, 3), -1), "softmax"
    elif case == "nan":
        X[0, 0, 0] = np.nan
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    xs = str(tmp_path / ("absent.npy" if case == "missing" else "x.npy"))
    status, out, err = run(capsys, "train", "--x", xs, "--y", str(tmp_path / "y.npy"),
                           "--output-type", kind, "--output", str(tmp_path / "m.npz"))
    one_line_error(status, err)
    assert not (tmp_path / "m.npz").exists()


def test_usage_errors(capsys):
    status, out, err = run(capsys, "demo", "--task", "poisson")
    assert status == 2 and "invalid choice" in err
    status, out, err = run(capsys)
    one_line_error(status, err)


def test_demo_binary_multiple_out(tmp_path, monkeypatch, capsys):
    # his test_binary(multiple_out=True): two binary outputs (REFERENCE's figures)
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo", "--task", "binary", "--multiple-out",
                           "--epochs", "1", "--quiet")
    assert status == 0, err
    model = load_metarnn(tmp_path / "elman_binary.npz")
    assert model.n_out == 2 and model.output_type == "binary"
    status, out, err = run(capsys, "demo", "--task", "real", "--multiple-out", "--epochs", "1")
    one_line_error(status, err)
    assert "--task binary" in err
