"""The one Trainer: guards, evaluation cadence, checkpoints, stop, exact resume, progress."""

from __future__ import annotations

import io as _io
import json
import logging
import re

import numpy as np
import pytest

from theano_rnn.training.progress import TrainProgress
from theano_rnn.training.trainer import (
    TrainHooks, Trainer, mt19937_state, rng_state, set_rng_state,
)


class ToyTask(TrainHooks):
    """Noisy quadratic: w -= lr * grad, a generator draws the batch; no PyTensor."""

    def __init__(self, steps=20, seed=0, losses=None):
        self.steps = steps
        self.w = np.array([3.0, -2.0])
        self.rng = np.random.default_rng(seed)
        self.legacy = np.random.RandomState(seed)
        self.pos = 0
        self.forced = dict(losses or {})
        self.saved = {}
        self.committed = 0

    def total_steps(self):
        return self.steps

    def next_batch(self):
        self.pos += 1
        return self.rng.normal(size=2) + self.legacy.uniform(size=2)

    def train_step(self, batch, lr):
        loss = float(np.sum((self.w - batch) ** 2))
        self.w = self.w - lr * 2 * (self.w - batch)
        loss = self.forced.get(self.pos, loss)

        def commit():
            self.committed += 1

        return loss, commit

    def evaluate(self):
        return float(np.sum(self.w ** 2))

    def schedule(self, i, lr):
        return lr * 0.5 if i % 5 == 0 else lr

    def task_state(self):
        return {"w": self.w.tolist(), "pos": self.pos, "rng": rng_state(self.rng),
                "legacy": rng_state(self.legacy)}

    def set_task_state(self, st):
        self.w = np.array(st["w"])
        self.pos = st["pos"]
        set_rng_state(self.rng, st["rng"])
        set_rng_state(self.legacy, st["legacy"])

    def write_checkpoint(self, path, trainer):
        self.saved[path] = json.loads(json.dumps(trainer.full_state()))
        return path


def _trainer(task, **kw):
    kw.setdefault("learning_rate", 0.1)
    kw.setdefault("eval_every", 4)
    return Trainer(task, checkpoint_path="latest", best_path="best", **kw)


def test_eval_cadence_checkpoints_and_schedule():
    task = ToyTask(steps=10)
    tr = _trainer(task)
    res = tr.run()
    assert res.reason == "done" and res.iteration == 10
    assert [i for i, _ in res.val_losses] == [4, 8, 10]
    assert task.saved["latest"]["iteration"] == 10
    assert task.saved["best"]["best_val_loss"] == min(v for _, v in res.val_losses)
    assert tr.learning_rate == pytest.approx(0.1 * 0.25)
    assert task.committed == 10


def test_resume_is_exact_with_both_generator_types():
    straight = _trainer(ToyTask(steps=12))
    straight.run()
    first = ToyTask(steps=12)
    tr = _trainer(first)
    res = tr.run(max_iterations=7, should_stop=lambda: tr.iteration == 6)
    assert res.reason == "stopped" and res.iteration == 6
    saved = first.saved["latest"]
    # a fresh task with other seeds, restored from the checkpoint's state
    second = ToyTask(steps=12, seed=99)
    tr2 = _trainer(second, learning_rate=123.0)
    tr2.set_state(saved)
    second.set_task_state(saved)
    tr2.run()
    assert np.array_equal(second.w, straight.hooks.w)
    assert tr2.train_losses == straight.train_losses
    assert tr2.val_losses == straight.val_losses


@pytest.mark.parametrize("bad,reason", [(float("nan"), "nan"), (float("inf"), "nan"), (1e9, "exploded")])
def test_guards_stop_before_commit_and_save(bad, reason):
    task = ToyTask(steps=20, losses={6: bad})
    tr = _trainer(task)
    res = tr.run()
    assert res.reason == reason
    assert res.iteration == 5 and task.committed == 5
    assert task.saved["latest"]["iteration"] == 4  # the last good checkpoint is kept


def test_explode_factor_is_three_times_the_first_loss():
    task = ToyTask(steps=3, losses={1: 1.0, 2: 2.9, 3: 3.1})
    assert _trainer(task).run().reason == "exploded"
    task = ToyTask(steps=3, losses={1: 1.0, 2: 2.9, 3: 2.99})
    assert _trainer(task).run().reason == "done"


def test_rng_state_round_trips_through_json():
    for rng in (np.random.default_rng(5), np.random.RandomState(5)):
        rng.normal()  # a cached gaussian for RandomState
        st = json.loads(json.dumps(rng_state(rng)))
        expect = rng.uniform(size=3)
        other = type(rng)(7) if isinstance(rng, np.random.RandomState) else np.random.default_rng(7)
        set_rng_state(other, st)
        assert np.array_equal(other.uniform(size=3), expect)
    with pytest.raises(ValueError):
        set_rng_state(np.random.RandomState(1), rng_state(np.random.default_rng(1)))


def test_mt19937_state_reads_the_older_cloze_and_classifier_encoding():
    # before 2026-12-03 those checkpoints kept the keys as an array and the
    # other four parts in their metadata
    rng = np.random.RandomState(3)
    rng.normal()
    name, keys, pos, has_gauss, cached = rng.get_state()
    st = json.loads(json.dumps(mt19937_state(keys.astype(np.uint32), pos, has_gauss, cached)))
    assert st == rng_state(rng)
    other = set_rng_state(np.random.RandomState(0), st)
    assert np.array_equal(other.normal(size=4), rng.normal(size=4))


class _Tty(_io.StringIO):
    def isatty(self):
        return True


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_compiling_line_budget_eta_and_logging():
    out = _Tty()
    clock = _Clock()
    root = logging.getLogger()
    handler = logging.StreamHandler(out)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        bar = TrainProgress(1000, label="train-x", time_budget=40, stream=out, clock=clock)
        bar.bar.refresh()
        assert "compiling ..." in out.getvalue()
        clock.t = 30.0  # compiling took 30 s
        bar(1, 1000, 4.2, None)
        clock.t = 40.0
        bar(11, 1000, 4.0, None)  # 1 it/s: 989 s by rate, 30 s of budget left
        assert bar.eta(11) == pytest.approx(30.0)
        assert "train-x" in bar.bar.desc and "compiling" not in bar.bar.desc
        logging.getLogger("theano_rnn.test").info("a log line")
        bar.close()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = out.getvalue()
    # the log line went through tqdm.write: the bar's line was cleared first
    assert re.search("\r +\ra log line\n", text), repr(text)
    assert handler.stream is out  # restored


def test_progress_non_tty_writes_a_line_every_step_percent():
    out, clock = _io.StringIO(), _Clock()
    with TrainProgress(200, stream=out, label="train", percent_step=25, clock=clock) as bar:
        for done in range(1, 201):
            clock.t += 0.01
            bar(done, 200, 1.0 / done)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines.pop(0) == "train: compiling ..."
    assert len(lines) == 4, lines  # 25, 50, 75, 100 %
    assert lines[0].startswith("train") and "50/200" in lines[0] and "loss=" in lines[0]
    assert "100% 200/200" in lines[-1]


def test_progress_tty_redraws_with_carriage_return_and_ends_the_line():
    out, clock = _Tty(), _Clock()
    bar = TrainProgress(10, stream=out, clock=clock)
    for done in range(1, 11):
        clock.t += 0.1
        bar(done, 10, 2.0)
    bar.close()
    text = out.getvalue()
    assert "\r" in text and text.endswith("\n")
    assert "10/10" in text and "loss=2" in text


def test_after_step_reason_and_no_save_of_non_finite_parameters_on_stop():
    class Stops(ToyTask):
        def after_step(self, i, loss):
            return "early_stop" if i == 3 else None

    task = Stops(steps=10)
    res = _trainer(task, eval_every=None).run()
    assert res.reason == "early_stop" and res.iteration == 3 and task.saved == {}

    class Broken(ToyTask):
        def params_finite(self):
            return False

    task = Broken(steps=10)
    res = _trainer(task, eval_every=None).run(should_stop=lambda: True)
    assert res.reason == "nan" and task.saved == {}
