"""``python -m theano_rnn``: the ``theano-rnn`` command line (:mod:`theano_rnn.cli.main`)."""

import sys

from theano_rnn.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
