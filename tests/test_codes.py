import pytest

from congress_vote import codes

# card and ballot codes: pure functions
pytestmark = pytest.mark.db_independent


def test_roundtrip_and_format():
    c = codes.new_code()
    assert len(c) == 17 and codes.normalise(c) == c
    printed = codes.format_code(c)
    assert printed.count("-") == 4 and codes.normalise(printed.lower()) == c
    assert codes.normalise(" " + printed.replace("-", " ") + " ") == c


def test_every_single_typo_is_caught():
    for _ in range(50):
        c = codes.new_code()
        for i in range(len(c)):
            for ch in codes.ALPHABET:
                if ch != c[i]:
                    assert codes.normalise(c[:i] + ch + c[i + 1 :]) is None


def test_most_adjacent_swaps_caught():
    caught = total = 0
    for _ in range(200):
        c = codes.new_code()
        for i in range(len(c) - 1):
            if c[i] != c[i + 1]:
                total += 1
                caught += codes.normalise(c[:i] + c[i + 1] + c[i] + c[i + 2 :]) is None
    assert caught / total > 0.95


def test_lookalikes_not_in_alphabet_and_rejected():
    for ch in "01IO":
        assert ch not in codes.ALPHABET
    assert codes.normalise("0" * 17) is None


def test_random_codes_distinct_and_80_bits():
    seen = {codes.new_code() for _ in range(5000)}
    assert len(seen) == 5000
    assert len(codes.ALPHABET) ** codes.DATA_LEN == 2**80


def test_derived_codes_stable_and_keyed():
    a = codes.derived_code("k1", "card:1:2:n")
    assert a == codes.derived_code("k1", "card:1:2:n") and codes.normalise(a) == a
    assert a != codes.derived_code("k2", "card:1:2:n")
