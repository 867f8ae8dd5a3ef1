"""Collusion signals (围标串标): each rule positive and negative, the service after a real sealed-bid
opening, the scheduled step, the audit event, the page and the API (supervisors only)."""

# The cast, tenders and clock are shared fixtures (tests/fixtures/); English and media root as in tests/trading:
# ruff: noqa: F811

from __future__ import annotations

import base64
import hashlib
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

import sbe1
from audit.models import AuditEvent, SealedOpening
from supervision import collusion
from supervision.collusion import (
    BidFacts,
    DepositFacts,
    Inputs,
    compute_signals,
    evidence_digest,
    identical_envelopes,
    identical_files,
    price_signals,
    same_project_managers,
    shared_devices,
    shared_ips,
    shared_payer_accounts,
)
from supervision.models import CollusionRun
from tests.fixtures.directory import _english, _media_root  # noqa: F401
from tests.trading.deposits.conftest import _bank_settings, make_transfer, notify, registered  # noqa: F401

SHA = {name: hashlib.sha256(name.encode()).hexdigest() for name in ("a", "b", "c", "d", "doc")}


def kinds(signals) -> list[str]:
    return [s.kind for s in signals]


# --- the rules, pure ---------------------------------------------------------------------------------

def test_identical_envelopes():
    bids = [BidFacts(1, "A", 1, envelope_sha256=SHA["a"]), BidFacts(2, "B", 1, envelope_sha256=SHA["a"].upper()),
            BidFacts(3, "C", 1, envelope_sha256=SHA["b"])]
    (signal,) = identical_envelopes(bids)
    assert signal.kind == "identical_envelope" and signal.severity == "red" and signal.bidders == [1, 2]
    assert signal.evidence["envelope_sha256"] == SHA["a"] and signal.evidence["bidder_names"] == {"1": "A", "2": "B"}
    # one bidder with the same envelope in two lots is no signal; distinct envelopes neither
    assert identical_envelopes([BidFacts(1, "A", 1, envelope_sha256=SHA["a"]),
                                BidFacts(1, "A", 2, envelope_sha256=SHA["a"]),
                                BidFacts(2, "B", 1, envelope_sha256=SHA["b"])]) == []


def test_identical_files_grouped_by_bidders_ignoring_tender_documents():
    empty = hashlib.sha256(b"").hexdigest()
    bids = [
        BidFacts(1, "A", 1, files=(("tech.pdf", SHA["a"]), ("price.xls", SHA["b"]), ("form.pdf", SHA["c"]),
                                   ("tender.pdf", SHA["doc"]), ("blank.txt", empty))),
        BidFacts(2, "B", 1, files=(("technical.pdf", SHA["a"]), ("prices.xls", SHA["b"]), ("form.pdf", SHA["c"]),
                                   ("tender.pdf", SHA["doc"]), ("empty.txt", empty))),
        BidFacts(3, "C", 1, files=(("form.pdf", SHA["c"]), ("own.pdf", SHA["d"]))),
    ]
    signals = identical_files(bids, ignored=[SHA["doc"]])
    assert [(s.bidders, [f["sha256"] for f in s.evidence["files"]]) for s in signals] == [
        ([1, 2], sorted([SHA["a"], SHA["b"]])), ([1, 2, 3], [SHA["c"]])]
    first = signals[0].evidence["files"][[f["sha256"] for f in signals[0].evidence["files"]].index(SHA["a"])]
    assert first["names"] == {"1": ["tech.pdf"], "2": ["technical.pdf"]}
    one_bidder_two_lots = [BidFacts(1, "A", 1, files=(("x", SHA["a"]),)), BidFacts(1, "A", 2, files=(("x", SHA["a"]),)),
                           BidFacts(2, "B", 1, files=(("x", SHA["b"]),))]
    assert identical_files(one_bidder_two_lots) == []


def test_shared_device_and_ip():
    bids = [BidFacts(1, "A", 1, ip="203.0.113.7", user_agent="UA-1", device="fp-1"),
            BidFacts(2, "B", 1, ip="203.0.113.7", user_agent="UA-1", device="fp-1"),
            BidFacts(3, "C", 1, ip="198.51.100.2", user_agent="UA-2", device="fp-3")]
    (device,) = shared_devices(bids)
    assert device.severity == "red" and device.bidders == [1, 2] and device.evidence["device"] == "fp-1"
    assert device.evidence["ips"] == ["203.0.113.7"]
    (ip,) = shared_ips(bids)
    assert ip.severity == "yellow" and ip.evidence["ip"] == "203.0.113.7" and ip.evidence["same_user_agent"] is True
    assert shared_ips(bids, ignored=["203.0.113.7"]) == []
    alone = [BidFacts(1, "A", 1, ip="203.0.113.7", device="fp-1"), BidFacts(2, "B", 1, ip="", device=""),
             BidFacts(3, "C", 1, ip="198.51.100.2", device="fp-3")]
    assert shared_devices(alone) == [] and shared_ips(alone) == []


def test_shared_payer_account():
    deposits = [DepositFacts(1, "A", 1, payer_account="6222 0000 1234 5678", payer_name="Shell Co"),
                DepositFacts(2, "B", 1, payer_account="6222-0000-1234-5678", payer_name="Shell Co"),
                DepositFacts(3, "C", 1, payer_account="6222000099990000", payer_name="C Ltd")]
    (signal,) = shared_payer_accounts(deposits)
    assert signal.kind == "shared_payer_account" and signal.severity == "red" and signal.bidders == [1, 2]
    assert signal.evidence["payer_account"] == "6222000012345678" and signal.evidence["payer_names"] == ["Shell Co"]
    assert shared_payer_accounts(deposits[2:] + [DepositFacts(4, "D", 1, payer_account="")]) == []


def test_same_project_manager():
    bids = [BidFacts(1, "A", 1, project_manager="Zhang  Wei"), BidFacts(2, "B", 1, project_manager="zhang wei"),
            BidFacts(3, "C", 1, project_manager="Li Na")]
    (signal,) = same_project_managers(bids)
    assert signal.bidders == [1, 2] and signal.severity == "red"
    assert same_project_managers(bids[2:]) == []


def _priced(*prices, lot=1):
    return [BidFacts(i, f"B{i}", lot, price=Decimal(p)) for i, p in enumerate(prices, 1)]


def test_equal_price_spacing():
    (exact,) = price_signals(_priced("1000000.00", "1010000.00", "1020000.00"))
    assert exact.kind == "equal_price_spacing" and exact.lot == 1 and exact.bidders == [1, 2, 3]
    assert exact.evidence["gaps"] == ["10000.00", "10000.00"] and exact.evidence["cv"] == "0.000000"
    assert exact.evidence["threshold"] == "0.01" and exact.evidence["prices"]["2"] == "1010000.00"
    # gaps 10000 and 10150: cv = 75 / 10075 = 0.0074 < 0.01
    (near,) = price_signals(_priced("1000000", "1010000", "1020150"))
    assert near.kind == "equal_price_spacing" and near.evidence["cv"] == "0.007444"
    # gaps 10000 and 10250: cv = 125 / 10125 = 0.0123: not equal enough
    assert price_signals(_priced("1000000", "1010000", "1020250")) == []
    # two bids are no pattern
    assert price_signals(_priced("1000000", "1010000")) == []
    # order of the inputs does not matter
    assert kinds(price_signals(_priced("1020000", "1000000", "1010000"))) == ["equal_price_spacing"]


def test_tight_price_band():
    # (1004900 - 1000000) / 1000000 = 0.0049 < 0.005; gaps 2000 and 2900 are not equal
    (band,) = price_signals(_priced("1000000", "1002000", "1004900"))
    assert band.kind == "tight_price_band" and band.evidence["band_ratio"] == "0.004900"
    assert band.evidence["min"] == "1000000" and band.evidence["max"] == "1004900"
    # exactly 0.5 % is not below the threshold
    assert price_signals(_priced("1000000", "1002000", "1005000")) == []
    assert price_signals(_priced("1000000", "1001000")) == []  # fewer than 3 bids


def test_identical_prices_per_lot():
    bids = [*_priced("990000", "990000", "1500000"), BidFacts(9, "X", 2, price=Decimal("990000"))]
    (same,) = price_signals(bids)
    assert same.kind == "identical_prices" and same.bidders == [1, 2] and same.lot == 1
    assert same.evidence["price"] == "990000"
    # the same price in two different lots is no signal
    assert price_signals([BidFacts(1, "A", 1, price=Decimal(5)), BidFacts(2, "B", 2, price=Decimal(5))]) == []


def test_compute_signals_and_digest():
    inputs = Inputs(bids=[BidFacts(1, "A", 1, envelope_sha256=SHA["a"], device="fp"),
                          BidFacts(2, "B", 1, envelope_sha256=SHA["b"], device="fp")],
                    deposits=[DepositFacts(1, "A", 1, payer_account="1"), DepositFacts(2, "B", 1, payer_account="2")])
    signals = compute_signals(inputs)
    assert kinds(signals) == ["shared_device"]
    assert evidence_digest(signals) == hashlib.sha256(
        b'[{"bidders":[1,2],"evidence":{"bidder_names":{"1":"A","2":"B"},"device":"fp","ips":[],"user_agents":[]},'
        b'"kind":"shared_device","lot":null,"severity":"red"}]').hexdigest()
    assert evidence_digest([]) == hashlib.sha256(b"[]").hexdigest()


# --- a real sealed-bid tender: submission, opening, read-out -------------------------------------------

COPIED = b"%PDF-1.4 qualification documents prepared by one consultant\n" * 50


def _seal_and_submit(lot, user, *, price: str, files):
    from trading.bids.keys import key_register
    from trading.bids.submission import bid_upload

    key = sbe1.generate_private_key()
    key_register(actor=user, public_key=sbe1.spki_b64(key), holder="organisation", label="test")
    out = io.BytesIO()
    sbe1.seal_bid({"price": price, "currency": "CNY", "duration_days": 180}, files, out,
                  tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(user.organisation_id),
                  bidder_key=sbe1.spki_der(key), opening_key=lot.opening_key.public_spki, chunk_size=1024)
    envelope = out.getvalue()
    bid = bid_upload(actor=user, lot=lot, stream=io.BytesIO(envelope), content_length=len(envelope),
                     signature=sbe1.sign_envelope(key, envelope))
    return bid, key, envelope


def _end_phase(clock, tender):
    from trading.models import Opening
    from trading.services.scheduling import steps_run_due

    opening = Opening.objects.get(tender=tender)
    clock.move_to(opening.phase_ends_at + timedelta(seconds=1))
    steps_run_due()


def submit_bids(published, cast, prices=("1000000.00", "1010000.00", "1020000.00")):
    """Three registered bidders submit sealed bids; the first two include the same file."""
    from trading.services.registrations import registration_create

    lot = published.lots.get()
    sealed = []
    for i, (user, price) in enumerate(zip(cast.bidders, prices, strict=True)):
        registration_create(actor=user, lot=lot)
        files = [("qualification.pdf", COPIED if i < 2 else b"%PDF-1.4 our own documents\n"),
                 (f"technical-{i}.pdf", f"%PDF-1.4 technical proposal {i}\n".encode() * 20)]
        sealed.append((user, *_seal_and_submit(lot, user, price=price, files=files)))
    return sealed


def open_bids(published, cast, clock, sealed):
    """Pass the deadline and run the opening to its end: sign-in, decryption, read-out, confirmation."""
    from trading.opening.services import bid_dek_release, opening_confirm, opening_sign_in
    from trading.services.scheduling import steps_run_due

    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    for user, *_ in sealed:
        opening_sign_in(actor=user, tender=published)
    _end_phase(clock, published)  # sign-in over: decryption
    for user, bid, key, envelope in sealed:
        dek = base64.b64encode(sbe1.unwrap_dek(sbe1.parse_header(envelope), key, "bidder")).decode()
        bid_dek_release(actor=user, tender=published, bid_id=bid.public_id, dek=dek)
    for user, *_ in sealed:  # every bid decrypted: read-out, then confirmation
        opening_confirm(actor=user, tender=published)
    _end_phase(clock, published)  # objections phase over: closed
    published.refresh_from_db()
    return published


@pytest.fixture
def opened(published, cast, clock):
    sealed = submit_bids(published, cast)
    return open_bids(published, cast, clock, sealed)


def test_signals_after_a_real_opening_via_the_scheduled_step(opened, cast, clock):
    from trading.models import Opening, ScheduledStep
    from trading.services.scheduling import steps_run_due

    assert Opening.objects.get(tender=opened).state == "closed" and opened.status == "evaluating"
    assert collusion.collusion_schedule_due() == 1
    assert collusion.collusion_schedule_due() == 0  # one step per tender
    steps_run_due()
    step = ScheduledStep.objects.get(kind="collusion_check", tender=opened)
    assert step.done_at is not None and step.result == "2 signal(s)"
    run = CollusionRun.objects.get(tender_id=opened.pk)
    assert run.trigger == "step" and run.actor == "system"
    signals = {s.kind: s for s in run.signals.all()}
    assert set(signals) == {"identical_files", "equal_price_spacing"}
    orgs = sorted(o.pk for o in cast.bidder_orgs)
    copied = signals["identical_files"]
    assert copied.severity == "red" and copied.bidders == orgs[:2]
    assert [f["sha256"] for f in copied.evidence["files"]] == [hashlib.sha256(COPIED).hexdigest()]
    assert copied.evidence["bidder_names"][str(orgs[0])] == cast.bidder_orgs[0].name
    spacing = signals["equal_price_spacing"]
    assert spacing.lot == 1 and spacing.bidders == orgs and spacing.evidence["gaps"] == ["10000.00", "10000.00"]
    assert run.sources["bids"] == {"bids": 3, "manifests": 3, "prices": 3, "upload_ip": 0, "device": 0}
    from trading import models as trading_models

    deposits_installed = hasattr(trading_models, "BankTransaction")
    assert run.sources["deposits"] == ({"arrivals": 0} if deposits_installed else None)
    # the audit event carries the counts and the digest of the evidence rows
    event = AuditEvent.objects.get(action="collusion.checked")
    assert event.seq == run.audit_seq and event.object == f"trading.tender:{opened.pk}"
    assert event.data["counts"] == {"equal_price_spacing": 1, "identical_files": 1}
    rows = [collusion.Signal(s.kind, s.bidders, s.evidence, lot=s.lot, severity=s.severity)
            for s in run.signals.order_by("pk")]
    assert event.data["evidence_sha256"] == run.evidence_sha256 == evidence_digest(rows)
    assert cast.bidder_orgs[0].name not in str(event.data)  # names stay in the rows
    # the step does not run twice
    step.done_at = None
    step.save(update_fields=["done_at"])
    steps_run_due()
    assert CollusionRun.objects.filter(tender_id=opened.pk).count() == 1


def test_no_signal_for_independent_bids(published, cast, clock):
    sealed = submit_bids(published, cast, prices=("1000000.00", "1080000.00", "1310000.00"))
    # make the copied file differ: re-seal the second bidder's bid with its own file
    from trading.services.registrations import registration_create  # noqa: F401

    lot = published.lots.get()
    user = sealed[1][0]
    sealed[1] = (user, *_seal_and_submit(lot, user, price="1080000.00",
                                         files=[("qualification.pdf", b"%PDF-1.4 B's own\n")]))
    open_bids(published, cast, clock, sealed)
    run = collusion.collusion_check(actor=cast.supervisor, tender=published)
    assert list(run.signals.all()) == [] and run.counts == {} and run.trigger == "supervisor"
    assert AuditEvent.objects.get(action="collusion.checked").actor == str(cast.supervisor.pk)


def test_deposits_paid_from_one_account(registered, notify, clock, cast):
    from trading.services.scheduling import steps_run_due

    tender, regs = registered
    shared = "6222 0300 0000 7788"
    for reg, payer in zip(regs, [shared, shared.replace(" ", ""), None], strict=True):
        notify(make_transfer(reg.deposit_account, payer=payer))
    clock.move_to(tender.bid_deadline + timedelta(seconds=1))
    steps_run_due()  # the deadline (no bids: the opening fails, bidding is closed)
    run = collusion.collusion_check(actor=cast.supervisor, tender=tender)
    (signal,) = run.signals.all()
    assert signal.kind == "shared_payer_account" and signal.severity == "red"
    assert signal.bidders == sorted(r.bidder_id for r in regs[:2])
    assert signal.evidence["payer_account"] == "6222030000007788" and run.sources["deposits"] == {"arrivals": 3}


def test_not_before_the_deadline(published, cast):
    from config.errors import StateConflict

    with pytest.raises(StateConflict):
        collusion.collusion_check(actor=cast.supervisor, tender=published)
    assert not CollusionRun.objects.exists()


# --- page and API ----------------------------------------------------------------------------------------

def test_signals_page_and_api(opened, cast, client, api):
    client.force_login(cast.supervisor)
    url = f"/supervisor/tenders/{opened.pk}/signals/"
    html = client.get(url).content.decode()
    assert "This tender has not been checked yet" in html
    response = client.post(f"{url}compute/")
    assert response.status_code == 302 and response["Location"] == url
    html = client.get(url).content.decode()
    assert "Identical files in different bids" in html and "Prices at equal spacing" in html
    assert hashlib.sha256(COPIED).hexdigest() in html and cast.bidder_orgs[1].name in html
    assert "Art 40" in html
    body = api.as_user(cast.supervisor).get(f"/api/v1/audit/tenders/{opened.pk}/collusion").json()
    assert {s["kind"] for s in body["signals"]} == {"identical_files", "equal_price_spacing"}
    created = api.post(f"/api/v1/audit/tenders/{opened.pk}/collusion")
    assert created.status_code == 201 and created.json()["id"] != body["id"]
    assert api.get("/api/v1/audit/tenders/999999/collusion").status_code == 404


def test_api_refuses_before_the_deadline(published, cast, api):
    response = api.as_user(cast.supervisor).post(f"/api/v1/audit/tenders/{published.pk}/collusion")
    assert response.status_code == 409 and response.json()["error"]["code"] == "sealed"
    assert api.get(f"/api/v1/audit/tenders/{published.pk}/collusion").status_code == 404


@pytest.mark.parametrize("role", ["agent", "tenderer", "bidder", "expert", "platform_admin"])
def test_signals_are_for_supervisors_only(published, client, api, make_user, role):
    url = f"/supervisor/tenders/{published.pk}/signals/"
    assert client.get(url).status_code == 302
    assert api.get(f"/api/v1/audit/tenders/{published.pk}/collusion").status_code == 401
    user = make_user(role)
    client.force_login(user)
    assert client.get(url).status_code == 403
    assert client.post(f"{url}compute/").status_code == 403
    assert api.as_user(user).get(f"/api/v1/audit/tenders/{published.pk}/collusion").status_code == 403
    assert api.post(f"/api/v1/audit/tenders/{published.pk}/collusion").status_code == 403
    assert not CollusionRun.objects.exists()


# --- upload facts through the real upload API ------------------------------------------------------------

def test_shared_ip_and_device_from_real_uploads(published, cast, clock, client, api):
    """Two bidders upload through the API from the same address and device: the supervisor's check
    flags them; the facts stay out of the audit log and out of bidder/agent outputs."""
    from tests.trading.sealed import bidder_with_key, pass_deadline, seal, upload
    from trading.services.registrations import registration_create

    lot = published.lots.get()
    shared_ip, other_ip = "198.51.100.23", "203.0.113.9"
    shared_fp, other_fp = "9c1f" * 8, "77aa" * 8
    agent_ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) CollusionTest/1.0"
    origins = [(shared_ip, shared_fp), (shared_ip, shared_fp), (other_ip, other_fp)]
    sealed = []
    for user, (ip, fp) in zip(cast.bidders, origins, strict=True):
        registration_create(actor=user, lot=lot)
        bidder = bidder_with_key(user)
        response = upload(lot, bidder, seal(lot, bidder), REMOTE_ADDR=ip, HTTP_USER_AGENT=agent_ua,
                          HTTP_X_DEVICE_FINGERPRINT=fp)
        assert response.status_code == 201, response.content
        sealed.append(bidder)
    pass_deadline(clock, published)

    client.force_login(cast.supervisor)
    url = f"/supervisor/tenders/{published.pk}/signals/"
    assert client.post(f"{url}compute/").status_code == 302
    html = client.get(url).content.decode()
    assert "Bids uploaded from the same device" in html and "Bids uploaded from the same IP address" in html
    assert shared_ip in html and shared_fp in html and other_ip not in html
    body = api.as_user(cast.supervisor).get(f"/api/v1/audit/tenders/{published.pk}/collusion").json()
    signals = {s["kind"]: s for s in body["signals"]}
    pair = sorted(o.pk for o in cast.bidder_orgs[:2])
    assert set(signals) == {"shared_device", "shared_ip"}
    assert signals["shared_device"]["severity"] == "red" and signals["shared_device"]["bidders"] == pair
    assert signals["shared_device"]["evidence"]["device"] == shared_fp
    assert signals["shared_device"]["evidence"]["ips"] == [shared_ip]
    assert signals["shared_ip"]["severity"] == "yellow" and signals["shared_ip"]["bidders"] == pair
    assert signals["shared_ip"]["evidence"]["ip"] == shared_ip and signals["shared_ip"]["evidence"]["same_user_agent"]
    assert body["sources"]["bids"]["upload_ip"] == 3 and body["sources"]["bids"]["device"] == 3

    # The log commits to the facts without carrying them.
    log = " ".join(str(e.data) for e in AuditEvent.objects.all())
    assert shared_ip not in log and shared_fp not in log and agent_ua not in log
    opened = [o for o in SealedOpening.objects.values_list("opening", flat=True) if o["action"] == "bid.submitted"]
    assert sum(1 for o in opened if "upload_facts_sha256" in o["data"]) == 3  # sealed events (docs/audit.md)
    # Bidders and the agent never see them.
    bidder_api = Client(HTTP_AUTHORIZATION=f"Token {sealed[0].token}")
    agent_api = Client()
    agent_api.force_login(cast.agent)
    for response in (bidder_api.get("/api/v1/bids/mine"),
                     agent_api.get(f"/api/v1/tenders/{published.pk}/opening"),
                     agent_api.get(f"/opening/{published.pk}/")):
        assert response.status_code == 200
        text = response.content.decode()
        assert shared_ip not in text and shared_fp not in text and agent_ua not in text
    assert agent_api.get(f"/api/v1/audit/tenders/{published.pk}/collusion").status_code == 403


def test_collusion_ignored_ips_skip_a_shared_hall(published, cast, clock, settings):
    """An address listed in COLLUSION_IGNORED_IPS (the trading centre's bid terminals) is no signal."""
    from tests.trading.sealed import bidder_with_key, pass_deadline, seal, upload
    from trading.services.registrations import registration_create

    settings.COLLUSION_IGNORED_IPS = ["192.0.2.50"]
    lot = published.lots.get()
    for user in cast.bidders[:2]:
        registration_create(actor=user, lot=lot)
        bidder = bidder_with_key(user)
        assert upload(lot, bidder, seal(lot, bidder), REMOTE_ADDR="192.0.2.50").status_code == 201
    pass_deadline(clock, published)
    run = collusion.collusion_check(actor=cast.supervisor, tender=published)
    assert run.counts == {} and run.sources["bids"]["upload_ip"] == 2 and run.sources["bids"]["device"] == 0
