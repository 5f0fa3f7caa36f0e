from typing import Any

# Posts migrated from the old CMS in 2023 have tags = None (the field did not exist there).
POSTS: dict[str, dict[str, Any]] = {
    "intro-to-sourdough": {"title": "Intro to sourdough", "tags": ["baking", "bread"]},
    "rye-starters": {"title": "Rye starters", "tags": ["baking", "rye"]},
    "knife-care": {"title": "Knife care", "tags": ["tools"]},
    "our-first-bakery": {"title": "Our first bakery", "tags": None},
}


def related(slug: str, limit: int = 3) -> list[str]:
    """Other posts sharing at least one tag, most shared tags first."""
    tags = set(POSTS[slug]["tags"])
    scored = []
    for other, post in POSTS.items():
        if other == slug or not post["tags"]:
            continue
        shared = len(tags & set(post["tags"]))
        if shared:
            scored.append((-shared, other))
    return [other for _, other in sorted(scored)[:limit]]
