"""gwtaylor's lag tasks (theano-rnn ``rnn.py``: ``test_real``, ``test_binary``,
``test_softmax``): data exactly as he generated it, training at his settings,
and his plots as PNG."""

from theano_rnn.tasks.seqpred.data import TASKS, make_task
from theano_rnn.tasks.seqpred.run import run_task

__all__ = ["TASKS", "make_task", "run_task"]
