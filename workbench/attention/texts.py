"""User texts for the model, bounded before they are tokenised, and a default sentence set.

The model sees at most 512 WordPiece positions, but tokenising an arbitrarily long
string costs time and memory before that limit can be checked. Every text is
therefore first bounded in characters (``MAX_TEXT_CHARS``, the one bound used by the
model, the long-input route, the CLI and the dashboard; 512 tokens of English prose
are about 2,500 characters, and a long input of 20,000 characters is about 4,000
tokens, eight of the model's windows: see :mod:`.long_input`), and a text file in
bytes (``MAX_FILE_BYTES``), decoded as strict UTF-8: one text per non-empty line, at
most ``MAX_TEXTS`` lines (:func:`read_texts`), or the whole file as one text
(:func:`read_text`).

``SENTENCES`` is a small built-in set for the sentence-similarity check: six
topics with four sentences each (two close paraphrases and two related ones), so
that the pairwise cosine similarities have a clear rank structure to keep.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import validate

MAX_TEXT_CHARS = 20_000
MAX_TEXTS = 256
MAX_FILE_BYTES = 1 << 20

SENTENCES = (
    "The cat sat on the warm windowsill all afternoon.",
    "All afternoon the cat was lying on the sunny window ledge.",
    "A dog chased the ball across the park.",
    "Our puppy loves running after sticks in the garden.",
    "Heavy rain is expected across the region tomorrow.",
    "The forecast says it will pour with rain tomorrow.",
    "Strong winds knocked down trees overnight.",
    "Snow is falling in the mountains this weekend.",
    "The central bank raised interest rates by half a point.",
    "Interest rates went up by fifty basis points at the central bank.",
    "Stock markets fell sharply after the announcement.",
    "Investors are worried about rising inflation.",
    "The striker scored twice in the second half.",
    "She scored two goals after the break to win the match.",
    "The tennis final went to five sets.",
    "The team trains every morning before the season starts.",
    "This function returns the sorted list of unique values.",
    "The method gives back the distinct elements in ascending order.",
    "A segmentation fault usually means invalid memory access.",
    "Compile the program with optimisations turned on.",
    "Simmer the tomato sauce slowly for an hour.",
    "Let the tomato sauce cook gently on low heat for sixty minutes.",
    "Bake the bread until the crust is golden brown.",
    "Whisk the eggs with sugar until they turn pale.",
)


def check_text(name: str, text: object) -> str:
    """``text`` as a non-empty string of at most ``MAX_TEXT_CHARS`` characters (before tokenising)."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{name} must not be empty (got only whitespace)")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{name} has {len(text)} characters; at most {MAX_TEXT_CHARS} characters are accepted "
                         "(checked before tokenising)")
    return text


def check_texts(texts: object, name: str = "texts") -> list[str]:
    """A list of 1..``MAX_TEXTS`` texts, each checked by :func:`check_text`."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise TypeError(f"{name} must be a string or a list of strings, got {type(texts).__name__}")
    validate.non_empty(name, texts)
    if len(texts) > MAX_TEXTS:
        raise ValueError(f"{name} has {len(texts)} entries; at most {MAX_TEXTS} are accepted")
    return [check_text(f"{name}[{i}]", t) for i, t in enumerate(texts)]


def _read_utf8(path: str | os.PathLike, name: str) -> str:
    """The content of a strict UTF-8 file of at most ``MAX_FILE_BYTES`` bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name} file {str(path)!r} does not exist or is not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{name} file has {size} bytes; at most {MAX_FILE_BYTES} are accepted")
    with path.open("rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)  # the file may grow after stat: never read past the bound
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{name} file has more than {MAX_FILE_BYTES} bytes; at most {MAX_FILE_BYTES} are accepted")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} file is not UTF-8 (invalid byte at offset {exc.start})") from None


def read_texts(path: str | os.PathLike, name: str = "texts") -> list[str]:
    """The non-empty lines of a UTF-8 text file, bounded in bytes, lines and characters."""
    lines = [line.strip() for line in _read_utf8(path, name).splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{name} file must hold at least one non-empty line")
    return check_texts(lines, name)


def read_text(path: str | os.PathLike, name: str = "text") -> str:
    """A whole UTF-8 text file as one text (line breaks kept), bounded in bytes and characters."""
    return check_text(name, _read_utf8(path, name))
