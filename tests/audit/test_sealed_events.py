"""Sealed audit events (docs/audit.md, "Sealed events"): an export bundle taken before the bid
deadline cannot link any event to an organisation nor count registrations; after the deadline
event the commitments verify with nothing but the bundle and the standard library."""

# The cast, tenders, bidding and clock are shared fixtures (tests/fixtures/); English, media root as in tests/trading:
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest

from audit.export import bundle_write
from audit.replay import tender_replay
from tests.fixtures.directory import _english, _media_root  # noqa: F401
from tests.trading.sealed import bidder_with_key, pass_deadline, submit
from trading.models import RegisteredKey
from trading.services.objections import objection_raise, objection_reply
from trading.services.questions import question_ask
from trading.services.registrations import registration_create, registration_withdraw

pytestmark = pytest.mark.django_db

SEALED_KINDS = ("registration.", "bid.", "question.asked", "objection.raised", "deposit.", "expert_draw.exclusions")


def _bundle(tender=None) -> tuple[str, list[dict]]:
    out = io.BytesIO()
    bundle_write(out, tender=None if tender is None else str(tender.pk))
    text = out.getvalue().decode("utf-8")
    events = [json.loads(json.loads(line)["canonical"]) for line in text.splitlines()
              if json.loads(line)["type"] == "event"]
    return text, events


def _canonical(value) -> bytes:
    """Canonical JSON (SPECS.md §2) with the standard library only, as an outsider would."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _activity(bidding):
    """Every kind of sealed fact: registrations (one withdrawn), deposit accounts, keys, a bid, a
    question, an objection."""
    b0, b1, b2 = bidding.bidders
    submit(bidding.lot, b0)
    question_ask(actor=b1.user, tender=bidding.tender, text="Is asphalt AC-13 acceptable?")
    objection = objection_raise(actor=b2.user, tender=bidding.tender, text="Clause 5 favours one brand.")
    objection_reply(actor=bidding.cast.agent, objection=objection, reply="Clause 5 is removed.")
    registration_withdraw(actor=b2.user, registration=b2.registration)


def test_bundle_before_the_deadline_links_nothing_and_counts_nothing(bidding, make_org, make_user):
    _activity(bidding)
    text, events = _bundle()
    # No event about a sealed fact is in clear, and none carries a shared hash or a key id.
    assert not [e for e in events if e["action"].startswith(SEALED_KINDS)]
    for needle in ("bidder_hash", "actor_hash", "asker_hash", "raiser_hash", "account_hash", "bidder_key_id",
                   "registrations"):
        assert needle not in text
    for bidder in bidding.bidders:
        key = RegisteredKey.objects.get(organisation=bidder.org)
        assert key.key_id not in text  # the key registration carries a commitment, the bid nothing
    sealed = [e for e in events if e["action"] == "sealed.committed"]
    assert len(sealed) >= 3 + 3 + 1 + 1 + 1 + 1  # registrations, accounts, bid, question, objection, withdrawal
    for event in sealed:  # one shape for every kind: nothing tells the tender, lot, kind or organisation
        assert event["actor"] == "system" and event["object"] == "sealed"
        assert set(event["data"]) == {"scheme", "commitment"} and event["data"]["scheme"] == "ptrade-seal-v1"
    commitments = [e["data"]["commitment"] for e in sealed]
    assert len(set(commitments)) == len(commitments)  # no two commitments alike, even for one organisation
    # The tender's own bundle does not grow with a registration: nothing counts them.
    _text, before = _bundle(bidding.tender)
    late = bidder_with_key(make_user("bidder", org=make_org("迟到公司")))
    registration_create(actor=late.user, lot=bidding.lot)
    _text, after = _bundle(bidding.tender)
    assert len(after) == len(before)
    full_text, full = _bundle()
    new = [e for e in full if e["seq"] > events[-1]["seq"]]
    assert {e["action"] for e in new if e["object"] != f"accounts.user:{late.user.pk}"} <= {
        "sealed.committed", "sbe1_key.registered", "organisation.created", "user.created"}
    sealed_new = [e for e in new if e["action"] == "sealed.committed"]
    assert sealed_new and "迟到公司" not in json.dumps(sealed_new, ensure_ascii=False)


def test_after_the_deadline_every_commitment_verifies_and_links(bidding, cast, clock):
    _activity(bidding)
    tender = bidding.tender
    pass_deadline(clock, tender)
    tender.refresh_from_db()
    _text, events = _bundle(tender)
    reveal = next(e for e in events if e["action"] == "tender.status_changed" and "sealed" in e["data"])
    salt = reveal["data"]["seal_salt"]
    assert salt == tender.seal_salt and reveal["data"]["registrations"] == 2
    by_seq = {e["seq"]: e for e in events}
    opened = []
    for item in reveal["data"]["sealed"]:
        event, opening = by_seq[item["seq"]], item["opening"]  # the tender bundle carries the sealed events
        assert event["action"] == "sealed.committed" and opening["tender"] == tender.pk
        expected = hmac.new(salt.encode("ascii"), _canonical(opening), hashlib.sha256).hexdigest()
        assert event["data"]["commitment"] == expected
        opened.append(opening)
    actions = [o["action"] for o in opened]
    assert actions.count("registration.created") == 3 and actions.count("registration.withdrawn") == 1
    assert {"bid.submitted", "question.asked", "objection.raised", "deposit.account_opened"} <= set(actions)
    # Linking is now possible: the identity hashes name organisations, the bid names its key.
    b0 = bidding.bidders[0]
    org_hash = hashlib.sha256(f"org:{b0.org_id}:{salt}".encode()).hexdigest()
    bid = next(o for o in opened if o["action"] == "bid.submitted")
    assert bid["data"]["bidder_hash"] == org_hash
    key = RegisteredKey.objects.get(organisation=b0.org)
    assert bid["data"]["bidder_key_id"] == key.key_id
    _full, log = _bundle()
    registered = next(e for e in log if e["action"] == "sbe1_key.registered" and e["object"].endswith(f":{key.pk}"))
    nonce = bid["data"]["bidder_key_nonce"]
    assert registered["data"]["key_commitment"] == hashlib.sha256(
        f"ptrade-key-v1\n{key.key_id}\n{nonce}".encode("ascii")).hexdigest()
    assert "key_id" not in registered["data"]
    # A forged opening does not verify.
    forged = {**opened[0], "data": {**opened[0]["data"], "lot": 0}}
    assert by_seq[reveal["data"]["sealed"][0]["seq"]]["data"]["commitment"] != hmac.new(
        salt.encode("ascii"), _canonical(forged), hashlib.sha256).hexdigest()


def test_supervisor_replay_opens_sealed_events_before_and_after_the_deadline(bidding, clock):
    _activity(bidding)
    tender = bidding.tender
    before = tender_replay(tender=tender.pk)
    assert before.state["sealed_events"]["source"] == "database"
    assert before.state["registrations"]["created"] == 3 and before.failed == 0
    pass_deadline(clock, tender)
    after = tender_replay(tender=tender.pk)
    assert after.state["sealed_events"]["source"] == "log" and after.failed == 0
    assert after.state["registrations"]["at_deadline"] == 2
    assert any(item.event.action == "bid.submitted" for item in after.events)


def test_offline_verifier_checks_the_commitments_of_a_tender_bundle(bidding, clock, tmp_path):
    from tests.audit.test_export import verify

    _activity(bidding)
    tender = bidding.tender
    pass_deadline(clock, tender)
    bundle = tmp_path / "tender.jsonl"
    with bundle.open("wb") as out:
        bundle_write(out, tender=str(tender.pk))
    result = verify(bundle)
    assert result.returncode == 0 and "VERIFIED" in result.stdout, result.stdout + result.stderr
    assert "opened by the deadline reveal, every commitment OK" in result.stdout
    # A forged opening in the reveal is caught (re-hashing the event would break its inclusion proof
    # first; here the reveal is rewritten in a copy that only the commitment check reads).
    from audit.verifier.ptrade_audit_verify import VerifyError, check_sealed

    items = [json.loads(line) for line in bundle.read_text(encoding="utf-8").splitlines()]
    events = [json.loads(i["canonical"]) for i in items if i["type"] == "event"]
    sealed = {e["seq"]: e for e in events if e["action"] == "sealed.committed"}
    reveal = next(e["data"] for e in events if "sealed" in e["data"])
    assert check_sealed(dict(sealed), [reveal], str(tender.pk)) == len(sealed)
    forged = {**reveal, "sealed": [{**reveal["sealed"][0], "opening": {**reveal["sealed"][0]["opening"],
                                                                       "actor": "7"}}, *reveal["sealed"][1:]]}
    with pytest.raises(VerifyError, match="does not match its commitment"):
        check_sealed(dict(sealed), [forged], str(tender.pk))
    with pytest.raises(VerifyError, match="no reveal opens them"):
        check_sealed(dict(sealed), [], str(tender.pk))
