from shipping.parcels import parcel_weight, postage_band


def test_an_item_without_grams_weighs_nothing():
    assert parcel_weight({"items": [{"grams": 350, "qty": 1}, {"sku": "gift-card", "qty": 1}]}) == 350
    assert postage_band("ord_2") == "small"


def test_items_with_grams_still_add_up():
    assert parcel_weight({"items": [{"grams": 200, "qty": 3}]}) == 600
