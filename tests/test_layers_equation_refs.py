"""Every ``Eqn k.n`` that ``layers/`` cites is well formed, lies in its module's part, and exists in the
derivation of that part (``derivations.catalog.TOPICS``), so code, write-up and exports agree."""

from __future__ import annotations

import io
import re
import tokenize
from functools import cache
from pathlib import Path

import pytest

LAYERS_DIR = Path(__file__).resolve().parent.parent / "layers"
PART_OF_MODULE = {"batchnorm.py": 1, "conv.py": 2, "pool.py": 3, "rnn.py": 4, "lstm.py": 5}

NUMBER = r"\d+\.\d+[a-z]?"  # "1.3", and "5.1b" for a sub-step the derivation splits out
SEPARATOR = r"\s*(?:,\s*and|,|and|-|–)\s*"  # lists ("4.5, 4.10", "1.22 and 1.25") and ranges ("5.1-5.2")
CITATION = re.compile(rf"\bEqns?\s+(?P<numbers>{NUMBER}(?:{SEPARATOR}{NUMBER})*)")
ANY_EQN = re.compile(r"\bEqns?\b")


def _texts(path: Path, kinds: tuple[int, ...]) -> list[tuple[int, str]]:
    """(line, text) of every token of the given kinds (COMMENT, STRING) in the file."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(tok.start[0], tok.string) for tok in tokens if tok.type in kinds]


def cited_numbers(text: str) -> list[str]:
    """Equation numbers cited in ``text``; a range "5.6-5.9" stands for 5.6, 5.7, 5.8, 5.9."""
    numbers = []
    for match in CITATION.finditer(text):
        items = re.split(rf"({SEPARATOR})", match["numbers"])
        values, separators = items[0::2], items[1::2]
        numbers.append(values[0])
        for separator, value in zip(separators, values[1:], strict=True):
            if separator.strip() in ("-", "–"):  # a range: every whole step in between
                part, first = numbers[-1].split(".")
                last = value.split(".")[1]
                numbers.extend(f"{part}.{n}" for n in range(int(re.sub("[a-z]", "", first)) + 1,
                                                            int(re.sub("[a-z]", "", last))))
            numbers.append(value)
    return numbers


@cache
def derivation_numbers() -> dict[int, frozenset[str]]:
    """Every equation number of every catalog topic, grouped by part."""
    from derivations.catalog import TOPICS

    by_part: dict[int, set[str]] = {}
    for topic in TOPICS.values():
        derivation = topic.derivation(topic.default_config())
        by_part.setdefault(topic.part, set()).update(eq.number for eq in derivation.equations)
    return {part: frozenset(numbers) for part, numbers in by_part.items()}


def test_citation_parser():
    assert cited_numbers("# (N, D)  Eqn 1.3") == ["1.3"]
    assert cited_numbers("# Eqns 1.22 and 1.25") == ["1.22", "1.25"]
    assert cited_numbers("# Eqns 4.5, 4.10") == ["4.5", "4.10"]
    assert cited_numbers("# Eqns 5.6-5.9") == ["5.6", "5.7", "5.8", "5.9"]
    assert cited_numbers("# Eqns 5.1b, 5.2") == ["5.1b", "5.2"]
    assert cited_numbers("# Eqn 1.x and Eqn (2.3)") == []


@pytest.mark.parametrize("module", sorted(PART_OF_MODULE))
def test_every_citation_in_a_comment_is_well_formed(module):
    """Each "Eqn" in a comment is followed by a number k.n (no "Eqn 1.", "Eqn (1.3)", "Eqn1.3")."""
    bad = []
    for line, text in _texts(LAYERS_DIR / module, (tokenize.COMMENT,)):
        if len(ANY_EQN.findall(text)) != len(CITATION.findall(text)):
            bad.append(f"{module}:{line}: {text}")
    assert not bad, "malformed equation citations:\n" + "\n".join(bad)


@pytest.mark.parametrize("module", sorted(PART_OF_MODULE))
def test_every_cited_number_is_in_the_part_of_its_module(module):
    part = PART_OF_MODULE[module]
    texts = _texts(LAYERS_DIR / module, (tokenize.COMMENT, tokenize.STRING))
    citations = [(line, number) for line, text in texts for number in cited_numbers(text)]
    assert citations, f"{module} cites no equation at all"
    wrong_part = [f"{module}:{line}: Eqn {number}" for line, number in citations
                  if number.split(".")[0] != str(part)]
    assert not wrong_part, f"citations outside part {part}:\n" + "\n".join(wrong_part)


@pytest.mark.parametrize("module", sorted(PART_OF_MODULE))
def test_every_cited_number_exists_in_the_derivation(module):
    part = PART_OF_MODULE[module]
    known = derivation_numbers()[part]
    missing = sorted({f"{module}:{line}: Eqn {number}"
                      for line, text in _texts(LAYERS_DIR / module, (tokenize.COMMENT, tokenize.STRING))
                      for number in cited_numbers(text) if number not in known})
    assert not missing, f"cited but not derived (part {part} has {sorted(known)}):\n" + "\n".join(missing)
