import pytest

from congress_vote.i18n.collation import name_sort_key, sort_names

# Vietnamese name collation: pure functions
pytestmark = pytest.mark.db_independent


def test_given_name_first():
    assert sort_names(["Trần Văn Bình", "Nguyễn Thị An"]) == ["Nguyễn Thị An", "Trần Văn Bình"]


def test_same_given_name_then_family():
    assert sort_names(["Trần An", "Lê An", "Nguyễn An"]) == ["Lê An", "Nguyễn An", "Trần An"]


def test_vietnamese_alphabet_letters():
    # a < ă < â < b ... d < đ < e < ê ... o < ô < ơ ... u < ư
    names = ["X Ư", "X U", "X Ơ", "X Ô", "X O", "X Ê", "X E", "X Đ", "X D", "X Â", "X Ă", "X A"]
    assert sort_names(names) == [
        "X A",
        "X Ă",
        "X Â",
        "X D",
        "X Đ",
        "X E",
        "X Ê",
        "X O",
        "X Ô",
        "X Ơ",
        "X U",
        "X Ư",
    ]


def test_tones_only_break_ties_in_dictionary_order():
    # level, huyền, hỏi, ngã, sắc, nặng
    assert sort_names(["X Ạ", "X Á", "X Ã", "X Ả", "X À", "X A"]) == [
        "X A",
        "X À",
        "X Ả",
        "X Ã",
        "X Á",
        "X Ạ",
    ]
    # letters decide before tones: "Ánh" < "Anh" is false only by tone; "An" < "Ánh"
    assert sort_names(["X Ánh", "X An", "X Anh"]) == ["X An", "X Anh", "X Ánh"]


def test_prefix_sorts_first_and_decomposed_input_equal():
    import unicodedata

    assert name_sort_key("Lê An") < name_sort_key("Lê Anh")
    assert name_sort_key(unicodedata.normalize("NFD", "Đỗ Thị Ánh")) == name_sort_key("Đỗ Thị Ánh")


def test_key_is_plain_hex():
    key = name_sort_key("Hà Thị Khánh Vân")
    assert set(key) <= set("0123456789abcdef")


def test_given_initials_in_vietnamese_alphabet_order():
    from congress_vote.i18n.collation import given_initial, initials_in_order

    assert given_initial("Đặng Quốc Khánh") == "K"
    assert given_initial("Lê Văn Ước") == "Ư"
    assert given_initial("Nguyễn Thị Ánh") == "A"  # a tone mark is not a letter of its own
    assert given_initial("Trần Đức") == "Đ"
    assert given_initial("  ") == "" and given_initial("Nguyễn 9") == ""
    names = ["A Yến", "B Ước", "C Uyên", "D Đức", "E Dũng", "F Ân", "G An", "H Ơn", "I Ô"]
    assert initials_in_order(names) == ["A", "Â", "D", "Đ", "Ô", "Ơ", "U", "Ư", "Y"]
