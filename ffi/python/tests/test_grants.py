"""pytest tests of grants through the C ABI: one authority, sessions from the host's proof,
revocation in the custodian's ledger, staff NDAs, lawful requests, the custodian's clock."""

import pytest

import crm_privacy as crm
from conftest import KEYS, T0, Root


def test_policy_table():
    assert crm.permits(crm.Category.EMAIL, crm.Purpose.NOTIFICATION)
    assert not crm.permits(crm.Category.PHONE, crm.Purpose.ANALYTICS)
    assert crm.permits(crm.Category.DEVICE_CONTACT, crm.Purpose.OWNER_ACCESS)
    assert not crm.permits(crm.Category.DEVICE_CONTACT, crm.Purpose.TEAM_COLLABORATION)


def test_custodian_revoke_stops_the_token(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(alice, crm.Category.EMAIL, "alice@example.com")
    token = c.grant(alice, crm.Purpose.NOTIFICATION, "mailer")
    assert token.startswith("g1.")
    c.read(token, crm.Purpose.NOTIFICATION, rec)
    c.revoke(token, crm.Purpose.NOTIFICATION)
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(token, crm.Purpose.NOTIFICATION, rec)
    assert e.value.code == 3004


def test_forged_malformed_and_foreign_tokens(tmp_path):
    home = Root(str(tmp_path / "home.db"))
    other = Root(str(tmp_path / "other.db"), token_key=b"o3Jf8!Lx1Wq6Zr9@Tb4Kn7Md0Hs2Vp5Y")
    try:
        alice = home.custodian.register_subject()
        rec = home.custodian.store(alice, crm.Category.EMAIL, "alice@example.com")
        token = home.custodian.grant(alice, crm.Purpose.NOTIFICATION, "mailer")
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        with pytest.raises(crm.TokenRejected) as e:
            home.custodian.read(forged, crm.Purpose.NOTIFICATION, rec)
        assert e.value.code == 4002
        with pytest.raises(crm.TokenRejected):
            home.custodian.read("g1.not-a-token", crm.Purpose.NOTIFICATION, rec)
        with pytest.raises(crm.ApiMisuse):
            home.custodian.read("", crm.Purpose.NOTIFICATION, rec)
        # A token of another authority (another token key) never reads here.
        carol = other.custodian.register_subject()
        foreign = other.custodian.grant(carol, crm.Purpose.NOTIFICATION, "mailer")
        with pytest.raises(crm.TokenRejected) as e:
            home.custodian.read(foreign, crm.Purpose.NOTIFICATION, rec)
        assert e.value.code == 4002
        with pytest.raises(crm.TokenRejected):
            home.custodian.revoke(foreign, crm.Purpose.NOTIFICATION)
    finally:
        home.close()
        other.close()


def test_sessions_come_from_the_authenticator_and_expire_by_its_clock(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(alice, crm.Category.PERSON_NAME, "Alice")
    with pytest.raises(crm.AuthenticationError):
        c.grant_owner("made-up-credential")
    cred = root.login(alice, "alice-short", seconds=60)
    own = c.grant_owner(cred)
    assert c.read(own, crm.Purpose.OWNER_ACCESS, rec) == "Alice"
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant(alice, crm.Purpose.OWNER_ACCESS, "support")
    assert e.value.code == 3012
    root.clock.advance(61)
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant_owner(cred)
    assert e.value.code == 3010
    with pytest.raises(crm.TokenRejected) as e:
        c.read(own, crm.Purpose.OWNER_ACCESS, rec)
    assert e.value.code == 4005


def test_callback_authenticator(tmp_path):
    subject = {}

    def authenticate(credential):
        if credential == "cb-cred":
            return subject["id"], b"\x01" * 16, T0, T0 + 600
        if credential == "cb-raise":
            return subject["id"], b"\x02" * 16, T0, T0 + 600
        return "expired" if credential == "cb-expired" else None

    ended = set()
    asked = []

    def session_live(subject_id, session, now):
        asked.append((subject_id, session, now))
        if session == b"\x02" * 16:
            raise RuntimeError("a failing check ends the session")
        return session not in ended

    clock = crm.ManualClock(T0 + 1)
    with crm.Custodian(str(tmp_path / "cb.db"), **KEYS, authenticate=authenticate,
                       session_live=session_live, clock=clock) as c:
        subject["id"] = c.register_subject()
        rec = c.store(subject["id"], crm.Category.PERSON_NAME, "Cb Owner")
        own = c.grant_owner("cb-cred")
        assert c.read(own, crm.Purpose.OWNER_ACCESS, rec) == "Cb Owner"
        assert (subject["id"], b"\x01" * 16, T0 + 1) in asked
        with pytest.raises(crm.AuthenticationError):
            c.grant_owner("nope")
        with pytest.raises(crm.PolicyRefusal) as e:
            c.grant_owner("cb-expired")
        assert e.value.code == 3010
        # A session_live that raises ends the session (fail closed), never unwinds.
        with pytest.raises(crm.CrmError) as e:
            c.read(c.grant_owner("cb-raise"), crm.Purpose.OWNER_ACCESS, rec)
        assert e.value.code == 3112
        # The host logs the session out: its owner grant stops reading at the next call.
        ended.add(b"\x01" * 16)
        with pytest.raises(crm.CrmError) as e:
            c.read(own, crm.Purpose.OWNER_ACCESS, rec)
        assert e.value.code == 3112
    clock.close()


def test_staff_need_an_nda_on_file(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(alice, crm.Category.PHONE, "+4915112345678")
    staff = crm.new_id()
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant_staff(alice, crm.Purpose.SUPPORT_CONTACT, staff)
    assert e.value.code == 3008
    root.staff.file(staff, "nda/2027/1", T0 - 10)
    token = c.grant_staff(alice, crm.Purpose.SUPPORT_CONTACT, staff)
    assert c.read(token, crm.Purpose.SUPPORT_CONTACT, rec) == "+4915112345678"
    root.staff.remove(staff)
    with pytest.raises(crm.PolicyRefusal) as e:
        c.read(token, crm.Purpose.SUPPORT_CONTACT, rec)
    assert e.value.code == 3008


def test_lawful_requests(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(alice, crm.Category.EMAIL, "alice@example.com")
    with pytest.raises(crm.PolicyRefusal) as e:
        c.grant_lawful(alice, crm.new_id(), "legal")
    assert e.value.code == 3104
    with pytest.raises(crm.InvalidData):
        c.record_lawful_request(alice, "Police", " ", "ref")
    req = c.record_lawful_request(alice, "Police", "StPO 100", "ref-7")
    token = c.grant_lawful(alice, req, "legal")
    assert c.read(token, crm.Purpose.LEGAL_COMPLIANCE, rec) == "alice@example.com"


def test_messages_carry_no_values():
    assert crm.result_message(3004) == "the grant has been revoked"
    assert crm.result_message(424242) == "unknown result code"
