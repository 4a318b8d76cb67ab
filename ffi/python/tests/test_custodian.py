"""pytest tests of the custodian through the C ABI: happy path, consent, rights."""

import json
import os

import pytest

import crm_privacy as crm
from conftest import KEYS, T0, Root

CANARY = "py.canary.7c1e@example.com"


def test_store_grant_read(root):
    c = root.custodian
    alice, bob = c.register_subject(), c.register_subject()
    rec = c.store(alice, crm.Category.EMAIL, "Alice@Example.COM")
    tok = c.grant(alice, crm.Purpose.NOTIFICATION, "mailer")
    assert c.read(tok, crm.Purpose.NOTIFICATION, rec) == "Alice@example.com"
    with pytest.raises(crm.TokenRejected) as e:
        c.read(tok, crm.Purpose.ANALYTICS, rec)
    assert e.value.code == 4004
    analytics = c.grant(alice, crm.Purpose.ANALYTICS, "stats")
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(analytics, crm.Purpose.ANALYTICS, rec)
    assert e.value.code == 3001  # email is not for analytics (clause 3.1)
    bob_tok = c.grant(bob, crm.Purpose.NOTIFICATION, "mailer")
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(bob_tok, crm.Purpose.NOTIFICATION, rec)
    assert e.value.code == 3102  # another subject's record reads like a missing one
    with pytest.raises(crm.InvalidData):
        c.store(alice, crm.Category.PHONE, "555-0100")
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant(alice, crm.Purpose.LEGAL_COMPLIANCE, "legal")
    assert e.value.code == 3105


def test_consent_needs_the_session_and_gates_collection(root):
    c = root.custodian
    alice = c.register_subject()
    cred = root.login(alice, "alice")
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant_conference(cred)
    assert e.value.code == 3009
    with pytest.raises(crm.PolicyRefusal) as e:
        c.store(alice, crm.Category.ZOOM_ACCESS_TOKEN, "zoom-secret-py")
    assert e.value.code == 3107
    with pytest.raises(crm.AuthenticationError) as e:
        c.give_consent("forged-credential", crm.Scope.ZOOM_LINK)
    assert e.value.code == 6001
    with pytest.raises(crm.ApiMisuse):
        c.give_consent(cred, crm.Scope.POLICY_VERSION)
    c.give_consent(cred, crm.Scope.ZOOM_LINK)
    c.acknowledge_policy(cred, 2)
    rec = c.store(alice, crm.Category.ZOOM_ACCESS_TOKEN, "zoom-secret-py")
    tok = c.grant_conference(cred)
    assert c.read(tok, crm.Purpose.CONFERENCE_CREATION, rec) == "zoom-secret-py"
    c.withdraw_consent(alice, crm.Scope.ZOOM_LINK)
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(tok, crm.Purpose.CONFERENCE_CREATION, rec)
    assert e.value.code == 3005
    with pytest.raises(crm.PolicyRefusal) as e:
        c.withdraw_consent(alice, crm.Scope.ZOOM_LINK)  # twice: CRM_CONSENT_NOT_IN_FORCE
    assert e.value.code == 3111


def test_export_rectify_erase_and_files_hold_no_plaintext(tmp_path):
    root = Root(str(tmp_path / "canary.db"))
    c = root.custodian
    try:
        alice = c.register_subject()
        cred = root.login(alice, "alice")
        rec = c.store(alice, crm.Category.EMAIL, "old.address@example.com")
        c.store(alice, crm.Category.DEVICE_INFO, json.dumps(
            {"model": "Pixel", "os_version": "16", "app_version": "5", "screen": [1, 2]}))
        own = c.grant_owner(cred)
        c.rectify(own, rec, crm.Category.EMAIL, CANARY)
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
    finally:
        root.close()


def test_restriction_and_lookup(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(alice, crm.Category.EMAIL, "find.me@example.com")
    tok = c.grant(alice, crm.Purpose.NOTIFICATION, "mailer")
    c.restrict(alice)
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(tok, crm.Purpose.NOTIFICATION, rec)
    assert e.value.code == 3006
    c.lift_restriction(alice)
    assert c.read(tok, crm.Purpose.NOTIFICATION, rec) == "find.me@example.com"
    with c.grant_lookup(crm.Purpose.NOTIFICATION, "recovery") as lookup:
        assert lookup.find_by_email("find.me@example.com") == [alice]
        assert lookup.find_by_email("nobody@example.com") == []
        with pytest.raises(crm.PolicyRefusal):
            lookup.find_by_phone("+4915112345678")
    with pytest.raises(crm.PolicyRefusal):
        c.grant_lookup(crm.Purpose.ANALYTICS, "stats")


def test_sharing(root):
    c = root.custodian
    alice = c.register_subject()
    email = c.store(alice, crm.Category.EMAIL, "alice@example.com")
    phone = c.store(alice, crm.Category.PHONE, "+4915112345678")
    own = c.grant_owner(root.login(alice, "alice"))
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant(alice, crm.Purpose.TEAM_COLLABORATION, "team")
    assert e.value.code == 3009  # nothing shared: no grant
    with pytest.raises(crm.PolicyRefusal) as e:
        c.set_sharing(own, colleagues=[crm.Category.DEVICE_CONTACT])
    assert e.value.code == 3110
    c.set_sharing(own, colleagues=[crm.Category.EMAIL])
    team = c.grant(alice, crm.Purpose.TEAM_COLLABORATION, "team")
    assert c.read(team, crm.Purpose.TEAM_COLLABORATION, email) == "alice@example.com"
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(team, crm.Purpose.TEAM_COLLABORATION, phone)
    assert e.value.code == 3103


def test_bad_keys_and_closed_handles(tmp_path):
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(str(tmp_path / "x.db"), b"short", KEYS["index_key"], KEYS["token_key"])
    c = crm.Custodian(str(tmp_path / "y.db"), **KEYS)
    handle = c._handle
    c.close()
    c.close()  # idempotent
    c._handle = handle  # a freed handle: detected, never dereferenced
    with pytest.raises(crm.ApiMisuse) as e:
        c.register_subject()
    assert e.value.code == 1005
    c._handle = None
