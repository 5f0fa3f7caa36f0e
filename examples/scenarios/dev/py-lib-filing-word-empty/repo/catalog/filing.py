"""Where a book is filed on the shelves."""

ARTICLES = ("the", "a", "an")


def filing_word(title: str) -> str:
    """The word a title is filed under: its first word that is not an article, lower-cased
    ("The Hobbit" → "hobbit"). A title without such a word is filed under ""."""
    words = [w.lower() for w in title.split() if w.lower() not in ARTICLES]
    return words[0]


def shelf_label(title: str) -> str:
    """The shelf's letter for a title: the first letter of its filing word, upper-cased."""
    return filing_word(title)[:1].upper()
