"""The filename rule: 1 to 255 bytes of UTF-8, no '/', '\\', NUL or control characters, not
'.' or '..'."""

import pytest

from resolvers.filenames import filename_problem


@pytest.mark.parametrize(
    "filename",
    ["hello.txt", "a..b.txt", "..hidden", ".bashrc", "...", "résumé ☃.txt", "x" * 255, "é" * 127],
)
def test_filename_problem_accepts_plain_names(filename: str) -> None:
    assert filename_problem(filename) is None


@pytest.mark.parametrize(
    ("filename", "problem"),
    [
        ("", "filename must not be empty"),
        (".", "filename must not be '.'"),
        ("..", "filename must not be '..'"),
        ("../x", "filename must not contain '/' (no paths)"),
        ("../../../etc/passwd", "filename must not contain '/' (no paths)"),
        ("sub/dir/file.txt", "filename must not contain '/' (no paths)"),
        ("a\\b", "filename must not contain '\\' (no paths)"),
        ("nul\x00.txt", "filename must not contain control characters (U+0000)"),
        ("line\nbreak", "filename must not contain control characters (U+000A)"),
        ("del\x7f", "filename must not contain control characters (U+007F)"),
        ("c1\x85", "filename must not contain control characters (U+0085)"),
        ("x" * 256, "filename is 256 bytes; at most 255 are allowed"),
        ("é" * 128, "filename is 256 bytes; at most 255 are allowed"),
        ("lone\ud800", "filename is not valid Unicode (lone surrogate)"),
        ("\u202egpj.exe", "filename must not contain format characters (U+202E)"),
        ("zero\u200bwidth.txt", "filename must not contain format characters (U+200B)"),
        ("bom\ufeff.txt", "filename must not contain format characters (U+FEFF)"),
    ],
)
def test_filename_problem_refuses_paths_controls_and_lengths(filename: str, problem: str) -> None:
    assert filename_problem(filename) == problem
