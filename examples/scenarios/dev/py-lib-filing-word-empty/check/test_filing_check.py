from catalog.filing import filing_word, shelf_label


def test_a_title_without_a_filing_word_is_filed_under_an_empty_string():
    assert filing_word("") == ""
    assert filing_word("The") == ""


def test_titles_with_a_filing_word_keep_it():
    assert filing_word("The Left Hand of Darkness") == "left"
    assert shelf_label("A Memory Called Empire") == "M"
