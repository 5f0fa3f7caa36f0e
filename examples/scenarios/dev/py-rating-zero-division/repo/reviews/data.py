"""Review rows keyed by product (the production service reads them from Postgres)."""

REVIEWS: dict[str, list[dict[str, object]]] = {
    "sku_kettle": [
        {"author": "mira", "stars": 5, "text": "Boils fast, quiet."},
        {"author": "dev", "stars": 4, "text": "Lid is a bit stiff."},
        {"author": "oli", "stars": 4, "text": "Good value."},
    ],
    "sku_toaster": [{"author": "sam", "stars": 2, "text": "Uneven toast."}],
    "sku_grinder": [],
}


def reviews_for(product_id: str) -> list[dict[str, object]]:
    return REVIEWS.get(product_id, [])
