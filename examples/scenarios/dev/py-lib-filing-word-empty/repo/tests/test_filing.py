from catalog.filing import filing_word, shelf_label


def test_articles_are_skipped():
    assert filing_word("The Hobbit") == "hobbit"
    assert filing_word("A Wizard of Earthsea") == "wizard"


def test_the_shelf_letter_is_the_filing_word_initial():
    assert shelf_label("An Unkindness of Ghosts") == "U"
