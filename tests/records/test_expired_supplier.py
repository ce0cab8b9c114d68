"""Goods from a supplier whose licence has expired are stopped at the door: the delivery is refused unless the
receiver says why it is accepted anyway, and that reason is kept on the chain and in the export."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from backend.extensions import db
from backend.records.bundle import load_bundle
from backend.records.chain import entry_document, verify_chain
from backend.records.models import ReceivingRecord, RecordEntry
from tests.records.helpers import item, today

pytestmark = pytest.mark.db


def _expired_supplier(manager, days_ago: int = 1) -> int:
    supplier_id = manager.supplier("杭州过期蔬菜配送有限公司")
    manager.certificate(supplier_id, today() - timedelta(days=days_ago))
    manager.certificate(supplier_id, today() + timedelta(days=300), kind="business_licence")
    return supplier_id


def _receivings() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReceivingRecord))


def test_a_delivery_from_a_supplier_with_an_expired_licence_is_refused_without_a_reason(manager):
    supplier_id = _expired_supplier(manager)
    refused = manager.receiving(supplier_id, [item()], expect=422).get_json()["error"]
    expired_on = (today() - timedelta(days=1)).isoformat()
    assert refused["code"] == "supplier_certificate_expired"
    assert refused["details"]["field"] == "accepted_expired_reason"
    assert refused["message"] == (f"供应商「杭州过期蔬菜配送有限公司」的食品经营许可证（{expired_on} 到期）已过期："
                                  "请拒收，或填写仍然接收的理由")
    assert refused["details"]["certificates"] == [{"kind": "food_business_licence", "valid_until": expired_on}]
    assert _receivings() == 0
    # A too-short reason is a field error; a blank one is no reason.
    assert manager.receiving(supplier_id, [item()], accepted_expired_reason="   ",
                             expect=422).get_json()["error"]["code"] == "validation_failed"
    assert manager.receiving(supplier_id, [item()], accepted_expired_reason="      ",
                             expect=422).get_json()["error"]["code"] == "supplier_certificate_expired"


def test_the_refusal_is_listed_with_the_other_broken_rules_of_the_delivery(manager):
    supplier_id = _expired_supplier(manager)
    stale = item("牛奶", category="dairy", production_date=today() - timedelta(days=10), shelf_life_days=3,
                 storage="ambient", storage_temperature_c=None)
    refused = manager.receiving(supplier_id, [stale], expect=422).get_json()["error"]
    codes = {e["code"] for e in refused["details"]["errors"]}
    assert "supplier_certificate_expired" in codes and len(codes) >= 2


def test_accepted_with_a_reason_the_reason_is_kept_on_the_chain_and_in_the_export(manager):
    supplier_id = _expired_supplier(manager, days_ago=3)
    reason = "新证已办理，纸质许可证三日内补交，临时接收当日蔬菜"
    record = manager.receiving(supplier_id, [item()], accepted_expired_reason=reason).get_json()
    assert record["accepted_expired_reason"] == reason
    entry = db.session.get(RecordEntry, record["version_id"])
    assert entry_document(entry, load_bundle([entry]))["record"]["accepted_expired_reason"] == reason
    assert verify_chain(1).ok
    export = manager.get("/canteens/1/records/export", **{"from": today().isoformat(), "to": today().isoformat()})
    rows = list(load_workbook(io.BytesIO(export.data))["进货查验"].iter_rows(values_only=True))
    column = rows[0].index("证照过期仍接收的理由")
    assert rows[1][column] == reason
    # The reason is sealed: changing it afterwards breaks the chain.
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE record_receiving SET accepted_expired_reason = '无'"))
    db.session.expire_all()
    assert not verify_chain(1).ok


def test_a_delivery_with_valid_licences_keeps_no_reason_and_hashes_as_before_the_column_existed(manager):
    supplier_id = manager.supplier("杭州有效蔬菜配送有限公司")
    manager.certificate(supplier_id, today() + timedelta(days=100))
    record = manager.receiving(supplier_id, [item()], accepted_expired_reason="多余的理由").get_json()
    assert record["accepted_expired_reason"] is None
    entry = db.session.get(RecordEntry, record["version_id"])
    # Entries sealed before the column was added have no such key: an unset value leaves it out too.
    assert "accepted_expired_reason" not in entry_document(entry, load_bundle([entry]))["record"]
    assert verify_chain(1).ok


def test_a_supplier_with_no_certificate_at_all_is_left_to_the_records_rules(manager):
    supplier_id = manager.supplier("杭州无证蔬菜配送有限公司")
    assert manager.receiving(supplier_id, [item()]).status_code == 201
