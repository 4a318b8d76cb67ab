"""pytest tests of the custodian through the C ABI: happy path and every refusal."""

import json
import os

import pytest

import crm_privacy as crm

KEYS = dict(kek=b"k" * 32, index_key=b"i" * 32, token_key=b"t" * 32)
CANARY = "py.canary.7c1e@example.com"


@pytest.fixture
def custodian(tmp_path):
    c = crm.Custodian(str(tmp_path / "py.db"), **KEYS)
    yield c
    c.close()


def test_store_grant_read(custodian):
    alice, bob = custodian.register_subject(), custodian.register_subject()
    rec = custodian.store(alice, crm.Category.EMAIL, "Alice@Example.COM")
    tok = custodian.grant(alice, crm.Purpose.NOTIFICATION, "mailer")
    assert custodian.read(tok, crm.Purpose.NOTIFICATION, rec) == "Alice@example.com"
    with pytest.raises(crm.TokenRejected) as e:
        custodian.read(tok, crm.Purpose.ANALYTICS, rec)
    assert e.value.code == 4004
    analytics = custodian.grant(alice, crm.Purpose.ANALYTICS, "stats")
    with pytest.raises(crm.PolicyRefusal) as e:
        custodian.read(analytics, crm.Purpose.ANALYTICS, rec)
    assert e.value.code == 3001  # email is not for analytics (clause 3.1)
    bob_tok = custodian.grant(bob, crm.Purpose.NOTIFICATION, "mailer")
    with pytest.raises(crm.PolicyRefusal) as e:
        custodian.read(bob_tok, crm.Purpose.NOTIFICATION, rec)
    assert e.value.code == 3002
    with pytest.raises(crm.InvalidData):
        custodian.store(alice, crm.Category.PHONE, "555-0100")


def test_consent_and_zoom(custodian):
    alice = custodian.register_subject()
    session, request = crm.new_subject(), crm.new_subject()
    with pytest.raises(crm.PolicyRefusal) as e:
        custodian.grant_conference(alice, session, request)
    assert e.value.code == 3009
    custodian.give_consent(alice, crm.Scope.ZOOM_LINK)
    rec = custodian.store(alice, crm.Category.ZOOM_ACCESS_TOKEN, "zoom-secret-py")
    tok = custodian.grant_conference(alice, session, request)
    assert custodian.read(tok, crm.Purpose.CONFERENCE_CREATION, rec) == "zoom-secret-py"
    custodian.withdraw_consent(alice, crm.Scope.ZOOM_LINK)
    with pytest.raises(crm.PolicyRefusal) as e:
        custodian.read(tok, crm.Purpose.CONFERENCE_CREATION, rec)
    assert e.value.code == 3005


def test_export_erase_and_files_hold_no_plaintext(tmp_path):
    path = str(tmp_path / "canary.db")
    with crm.Custodian(path, **KEYS) as c:
        alice = c.register_subject()
        c.store(alice, crm.Category.EMAIL, CANARY)
        c.store(alice, crm.Category.DEVICE_INFO, json.dumps({"model": "Pixel", "os_version": "16", "app_version": "5", "screen": [1, 2]}))
        own = c.grant_owner(alice, crm.new_subject())
        export = json.loads(c.export_json(own))
        assert any(r["value"] == CANARY for r in export["records"])
        checked, deleted = c.sweep()
        assert checked == 2 and deleted == 0
        ledger, audit = c.verify_audit()
        assert audit > 0
        for name in os.listdir(tmp_path):
            with open(tmp_path / name, "rb") as f:
                assert CANARY.encode() not in f.read(), name
        assert c.erase(alice) == 2
        with pytest.raises(crm.PolicyRefusal) as e:
            c.export_json(own)
        assert e.value.code == 3007


def test_bad_keys_and_closed_handles(tmp_path):
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(str(tmp_path / "x.db"), kek=b"short", index_key=b"i" * 32, token_key=b"t" * 32)
    c = crm.Custodian(str(tmp_path / "y.db"), **KEYS)
    handle = c._handle
    c.close()
    c._handle = handle
    with pytest.raises(crm.ApiMisuse) as e:
        c.register_subject()
    assert e.value.code == 1005
    c._handle = None
