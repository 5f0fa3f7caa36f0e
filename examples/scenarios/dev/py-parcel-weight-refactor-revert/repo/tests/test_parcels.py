from shipping.parcels import parcel_weight, postage_band


def test_the_weight_adds_every_item():
    assert parcel_weight({"items": [{"grams": 350, "qty": 2}, {"grams": 125, "qty": 4}]}) == 1200


def test_a_heavy_parcel_is_in_the_medium_band():
    assert postage_band("ord_1") == "medium"
