#!/usr/bin/env python
"""WildML part 4's ``train.py`` (dennybritz/rnn-tutorial-gru-lstm) on ``theano_rnn``.

Trains ``GRUTheano`` (two GRU layers, RMSprop) with the script's environment
variables -- ``LEARNING_RATE`` (0.001), ``VOCABULARY_SIZE`` (2000),
``HIDDEN_DIM`` (128), ``NEPOCH`` (20), ``MODEL_OUTPUT_FILE``,
``INPUT_DATA_FILE``, ``PRINT_EVERY`` (25000 examples: loss, checkpoint).
Examples are reshuffled every epoch.  Any ``theano-rnn train`` flag may be
added (flags win), e.g. ``--cell lstm`` or ``--nepoch 1 --max-sentences 200``.

The corpus is ``--corpus``, else ``$INPUT_DATA_FILE``, else the reddit prefix in
the shared data folder (``$THEANO_RNN_SHARED_DATA`` or ``../shared/data``).
"""

import sys

from _common import has_option, tutorial_data_args

from theano_rnn.cli.word import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    cell = [] if has_option(argv, "--cell") else ["--cell", "gru"]
    sys.exit(main(["train", *cell, "--scheme", "part4", *tutorial_data_args(argv), *argv]))
