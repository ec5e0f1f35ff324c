"""``python -m theano_rnn.legacy SCRIPT [ARGS...]``: :mod:`theano_rnn.cli.legacy`."""

import sys

from theano_rnn.cli.legacy import main

if __name__ == "__main__":
    sys.exit(main())
