"""`manage.py ocds_validate` covers every kind of open data the platform serves: the open data sources
registered in `trading.ocds.sources` (tenders by trading.ocds, fixed-price projects by smallworks,
auction results by auctions; docs/ocds.md, "Open data sources")."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from tests.auctions.conftest import enrol, fake_clock, new_trade, world  # noqa: F401  (fixtures)
from tests.trading.ocds.test_export import _publish_parts
from tests.trading.ocds.validation import offline, require_standard_zip
from trading.ocds.mapping import Context
from trading.ocds.sources import OpenDataSource, registered_sources, source_get, source_register

pytestmark = pytest.mark.django_db
PREFIX = "ocds-7tr4de"


def test_the_three_sources_are_registered():
    assert [s.key for s in registered_sources()] == ["tender", "fixed-price", "auction"]
    assert source_get("fixed-price").process_packages.__module__ == "smallworks.opendata"
    with pytest.raises(RuntimeError):  # another module cannot take a key
        source_register(OpenDataSource(key="auction", noun="x", published=list,
                                       process_packages=lambda p, c: [], list_packages=lambda c: []))
    with pytest.raises(ValueError):
        source_register(OpenDataSource(key="Bad Key", noun="x", published=list,
                                       process_packages=lambda p, c: [], list_packages=lambda c: []))
    with pytest.raises(LookupError):
        source_get("nothing")


def _one_of_each(world, fake_clock, make_world):  # noqa: F811
    """A published tender, a published fixed-price project and a published (stopped) auction result."""
    from auctions.models import TradeStatus
    from auctions.services.bidding import trade_advance
    from auctions.services.ending import result_publish
    from smallworks.services import project_create, project_publish
    from trading.models import TenderStatus

    w = make_world()
    w.tender.status = TenderStatus.PUBLISHED
    w.tender.save(update_fields=["status"])
    _publish_parts(w, None)
    project = project_create(
        actor=w.agent, tenderer=w.tenderer_org, title="Village road repair", contract_price=Decimal("1500000.00"),
        qualification_conditions=["Works contractor licence"], registration_ends_at=fake_clock.t + timedelta(days=5),
        drawing_at=fake_clock.t + timedelta(days=9), signing_days=5, reserves=1, deposit_amount=Decimal("0"))
    project_publish(actor=w.agent, project=project)
    project.refresh_from_db()
    trade = new_trade(world, kind="land_auction")
    enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.STOPPED
    trade = result_publish(actor=world.agent, trade=trade)
    return w.tender, project, trade


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_ocds_validate_covers_tenders_fixed_price_projects_and_auction_results(world, fake_clock,  # noqa: F811
                                                                                make_world):
    require_standard_zip()
    tender, project, trade = _one_of_each(world, fake_clock, make_world)

    out = io.StringIO()
    with offline():
        call_command("ocds_validate", "--all", stdout=out)
    lines = out.getvalue().splitlines()
    reports = [line for line in lines if ": 0 errors, 0 warnings" in line]
    assert [line.split(":")[0] for line in reports] == [
        "tenders bulk release package", f"{tender.code} release package", f"{tender.code} record package",
        f"{project.code} release package",
        "auction results release package", f"{trade.code} release package",
    ], out.getvalue()
    assert lines[-1] == "6 packages checked" and not [line for line in lines if line.startswith("  ")]

    # One process by code, per source; the same packages the API serves.
    for option, code in (("--tender", tender.code), ("--fixed-price", project.code), ("--auction", trade.code)):
        out = io.StringIO()
        with offline():
            call_command("ocds_validate", option, code, stdout=out)
        assert out.getvalue().count(": 0 errors, 0 warnings") == (2 if option == "--tender" else 1), out.getvalue()
        with pytest.raises(CommandError, match="no published"):
            call_command("ocds_validate", option, "NO-SUCH-CODE", stdout=io.StringIO())
    out = io.StringIO()
    with offline():
        call_command("ocds_validate", "--source", "fixed-price", stdout=out)
    assert out.getvalue().splitlines() == [f"{project.code} release package: 0 errors, 0 warnings",
                                           "1 packages checked"]
    with pytest.raises(CommandError, match="--fixed-price CODE"):
        call_command("ocds_validate", stdout=io.StringIO())

    # What the command validates is what the API serves (but for publishedDate, now).
    ctx = Context(base_url="http://testserver/")
    [(_label, built)] = source_get("fixed-price").process_packages(project, ctx)
    served = Client().get(built["uri"].removeprefix("http://testserver")).json()
    assert {**served, "publishedDate": None} == {**json.loads(json.dumps(built)), "publishedDate": None}
    [(_label, built)] = source_get("auction").process_packages(trade, ctx)
    served = Client().get(built["uri"].removeprefix("http://testserver")).json()
    assert {**served, "publishedDate": None} == {**json.loads(json.dumps(built)), "publishedDate": None}


@override_settings(OCDS_OCID_PREFIX="ocds-XXXXXX")
def test_ocds_validate_reports_every_source_with_the_placeholder_prefix(world, fake_clock, make_world):  # noqa: F811
    require_standard_zip()
    _one_of_each(world, fake_clock, make_world)
    out = io.StringIO()
    with pytest.raises(CommandError), offline():
        call_command("ocds_validate", "--all", stdout=out)
    assert out.getvalue().count("conformance: ocds_prefixes_bad_format") == 6
    out = io.StringIO()
    with offline():
        call_command("ocds_validate", "--all", "--allow-placeholder-prefix", stdout=out)
    assert out.getvalue().count(": 0 errors, 0 warnings") == 6
