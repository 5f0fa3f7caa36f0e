ARTICLES = [
    {"slug": f"story-{n:02d}", "title": f"Story {n}", "published": f"2025-06-{n:02d}"}
    for n in range(1, 26)
]


def newest_first() -> list[dict[str, str]]:
    return sorted(ARTICLES, key=lambda a: a["published"], reverse=True)
