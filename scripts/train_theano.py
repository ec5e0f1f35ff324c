#!/usr/bin/env python
"""WildML part 2's ``train-theano.py`` (dennybritz/rnn-tutorial-rnnlm) on ``theano_rnn``.

Trains ``RNNTheano`` on the reddit comments with the script's environment
variables -- ``VOCABULARY_SIZE`` (8000), ``HIDDEN_DIM`` (80), ``LEARNING_RATE``
(0.005), ``NEPOCH`` (100), ``MODEL_FILE`` (a model to continue) -- halving the
learning rate when the loss rises and saving ``rnn-theano-<H>-<C>-<time>.npz``
every 5 epochs.  Any ``theano-rnn train`` flag may be added (flags win over the
environment), e.g. ``python scripts/train_theano.py --nepoch 2 --max-sentences 100``.

The corpus is ``--corpus``, else ``$INPUT_DATA_FILE``, else the reddit prefix in
the shared data folder (``$THEANO_RNN_SHARED_DATA`` or ``../shared/data``).
"""

import sys

from _common import tutorial_data_args

from theano_rnn.cli.word import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(["train", "--cell", "rnn", "--scheme", "part2", *tutorial_data_args(argv), *argv]))
