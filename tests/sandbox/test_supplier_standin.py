"""The supplier stand-in through pybigbuy (the product's client): shapes, idempotent create, faults, truth."""

from __future__ import annotations

import pytest

ORDER = {
    "internalReference": "402-0000000-0000001",
    "language": "it",
    "paymentMethod": "moneybox",
    "carriers": [{"name": "gls"}],
    "shippingAddress": {
        "firstName": "Giulia",
        "lastName": "Rossi",
        "country": "IT",
        "postcode": "00184",
        "town": "Roma",
        "address": "Via Roma 1",
        "phone": "+39 06 1",
        "email": "",
        "comment": "",
    },
    "products": [{"reference": "S0001", "quantity": 2}],
}


@pytest.fixture(scope="module")
def supplier(tmp_path_factory):
    from sandbox.supplier.testing import run_supplier

    with run_supplier(tmp_path_factory.mktemp("supplier")) as running:
        yield running


def test_check_create_once_and_tracking(supplier):
    from bigbuy.exceptions import BBOrderAlreadyExistsError, BBResponseError

    client = supplier.client()
    assert client.check_order(ORDER)["total"] > 0
    order_id = client.create_order_id(ORDER)
    with pytest.raises(BBOrderAlreadyExistsError) as duplicate:
        client.create_order_id(ORDER)
    assert str(duplicate.value.bb_data["orderId"]) == order_id
    assert client.get_order_by_customer_reference(ORDER["internalReference"])["id"] == order_id
    with pytest.raises(BBResponseError) as missing:
        client.get_order_by_customer_reference("nope")
    assert missing.value.response.status_code == 404
    assert client.get_tracking_orders([order_id]) == [None]
    supplier.admin("POST", "ship")
    tracking = client.get_tracking_orders([order_id])[0]["trackings"][0]
    assert tracking["trackingNumber"] and tracking["carrier"]["name"] in ("GLS", "DHL", "UPS")
    truth = [o for o in supplier.truth()["orders"] if o["reference"] == ORDER["internalReference"]]
    assert len(truth) == 1 and truth[0]["duplicateCreates"] == 1


def test_faults_raise_pybigbuys_errors(supplier):
    from bigbuy import exceptions as bb

    client = supplier.client()
    supplier.admin("POST", "faults", json={"error_5xx": 1, "out_of_stock": ["S-EMPTY"], "refused_postcodes": ["99999"]})
    with pytest.raises(bb.BBServerError):
        client.check_order(ORDER)
    with pytest.raises(bb.BBStockError) as stock:
        client.check_order({**ORDER, "products": [{"reference": "S-EMPTY", "quantity": 1}]})
    assert stock.value.skus == ["S-EMPTY"]
    with pytest.raises(bb.BBZipcodeFormatError):
        client.check_order({**ORDER, "shippingAddress": {**ORDER["shippingAddress"], "postcode": "99999"}})
    balance = client.get_purse_amount()
    supplier.admin("POST", "purse", json={"amount": 1})
    with pytest.raises(bb.BBMoneyBoxTooLowError):
        client.create_order_id({**ORDER, "internalReference": "R-2"})
    supplier.admin("POST", "purse", json={"amount": balance})
    supplier.admin("POST", "faults", json={"timeout_after_create": 1})
    with pytest.raises(bb.BBTimeoutError):
        client.create_order_id({**ORDER, "internalReference": "R-3"})
    assert client.get_order_by_customer_reference("R-3")["id"]
    supplier.admin("DELETE", "faults")


def test_a_wrong_api_key_is_refused(supplier):
    from bigbuy.exceptions import BBResponseError

    client = supplier.client()
    client.headers["Authorization"] = "Bearer wrong"
    with pytest.raises(BBResponseError) as refused:
        client.get_purse_amount()
    assert refused.value.response.status_code == 401
