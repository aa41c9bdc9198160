"""Texts bounded before tokenising: characters, lines, bytes, UTF-8."""

import pytest

from workbench.attention.texts import MAX_FILE_BYTES, MAX_TEXT_CHARS, MAX_TEXTS, SENTENCES, check_texts, read_texts


def test_read_texts_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("First sentence.\n\n  Second one, café.  \n", encoding="utf-8")
    assert read_texts(path) == ["First sentence.", "Second one, café."]
    assert len(SENTENCES) == 24 and check_texts(list(SENTENCES)) == list(SENTENCES)


@pytest.mark.parametrize("content, words", [
    (b"fine\n\xff\xfe bad bytes\n", "not UTF-8 (invalid byte at offset 5)"),
    (b"\n  \n", "at least one non-empty line"),
    (b"x" * (MAX_TEXT_CHARS + 1), f"texts[0] has {MAX_TEXT_CHARS + 1} characters"),
    (b"a\n" * (MAX_TEXTS + 1), f"at most {MAX_TEXTS} are accepted"),
    (b"a" * (MAX_FILE_BYTES + 1), f"at most {MAX_FILE_BYTES} are accepted"),
])
def test_bad_files(tmp_path, content, words):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        read_texts(path)
    assert words in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_texts(tmp_path / "nope.txt")
