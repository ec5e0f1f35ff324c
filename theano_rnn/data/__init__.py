"""Data: text readers, tokenization, vocabularies, corpora and batching.

``theano_rnn.data`` keeps the word-level tutorial API public
(``from theano_rnn.data import load_part2``).  The modules below it:

* shared by every pipeline: :mod:`~theano_rnn.data.text` (the one reader:
  regular files only, a byte limit, byte-offset decode errors; documents of a
  corpus), :mod:`~theano_rnn.data.vocab` (the one ``Vocab``),
  :mod:`~theano_rnn.data.batching` (padding, side by argument; batch
  builders), :mod:`~theano_rnn.data.cache` (the corpus cache, in a cache
  directory), :mod:`~theano_rnn.data.checks` (argument checks);
* the pipelines: :mod:`~theano_rnn.data.words` + :mod:`~theano_rnn.data.wordvocab`
  (WildML parts 2 and 4), :mod:`~theano_rnn.data.chars` (char-rnn),
  :mod:`~theano_rnn.data.seq` (cloze sentences) + :mod:`~theano_rnn.data.labelled`
  (labelled sequences), :mod:`~theano_rnn.data.corpora` (the embedded corpora).
"""


__all__ = [
    "SENTENCE_START",
    "SENTENCE_END",
    "UNKNOWN_TOKEN",
    "MASK_TOKEN",
    "DataError",
    "Corpus",
    "SentenceTokenizer",
    "read_csv_comments",
    "read_text",
    "read_corpus",
    "find_punkt_model",
    "get_sentence_tokenizer",
    "train_sentence_tokenizer",
    "split_sentences",
    "word_tokenize",
    "tokenize_sentences",
    "count_words",
    "build_vocabulary_part2",
    "build_vocabulary_part4",
    "encode",
    "prepare_part2",
    "prepare_part4",
    "load_part2",
    "load_part4",
]

_WORD_API = frozenset(__all__) - {"DataError"}


def __getattr__(name):
    """The word-level tutorial API, imported on first use.

    Importing the package (which every layer does, for batching, the reader
    or the vocabulary) does not import :mod:`theano_rnn.data.words` and NLTK;
    ``from theano_rnn.data import load_part2`` does.
    """
    if name == "DataError":
        from theano_rnn.errors import DataError

        return DataError
    if name in _WORD_API:
        from theano_rnn.data import words

        return getattr(words, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
