"""The live fixed-price drawing room watched by a bidder, the supervisor and the public: all three see
the commitment and then the drawn enterprise and the reserves arrive live (persisted stream over the
WebSocket), in the same order; only the supervisor sees the exclusions with their reasons; the public
record page recomputes the drawing."""

from __future__ import annotations

import json

import pytest

from tests.e2e.browser import wait_until

pytestmark = pytest.mark.e2e


def test_live_drawing_room(users, e2e_server):
    setup = json.loads(e2e_server.python("-m", "tests.e2e.fixed_price_setup", "prepare").strip().splitlines()[-1])
    path = f"/fixed-price/{setup['public_id']}/room/"
    pages = {
        "bidder": users.page(setup["bidder"], locale="en", path=path),
        "supervisor": users.page(setup["supervisor"], locale="en", path=path),
        "public": users.page(None, locale="zh-CN", path=path),
    }
    for page in pages.values():
        wait_until(page, "document.getElementById('fp-room').getAttribute('data-live') === '1'")
    assert pages["public"].locator("#fp-excluded").count() == 0

    result = json.loads(e2e_server.python("-m", "tests.e2e.fixed_price_setup", "draw",
                                          str(setup["project"])).strip().splitlines()[-1])
    for name, page in pages.items():
        wait_until(page, "document.querySelectorAll('#fp-picks li').length === 3", timeout=20_000)
        shown = page.locator("#fp-picks li").all_inner_texts()
        assert [s.split(" · ")[0] for s in shown] == result["picks"], (name, shown)
        wait_until(page, "document.getElementById('fp-seed').textContent.length === 64")
        assert page.locator("#fp-seed").inner_text() == result["seed"]
        assert len(page.locator("#fp-pool li").all_inner_texts()) == 4, name  # 5 qualified, 1 excluded
    excluded = pages["supervisor"].locator("#fp-excluded li").all_inner_texts()
    assert len(excluded) == 1 and setup["related"] in excluded[0] and "tenderer_relation" in excluded[0]
    assert pages["bidder"].locator("#fp-excluded").count() == 0
    for name, page in pages.items():
        users.checkpoint(page, f"fixed-price-room-{name}", axe=(name == "public"))

    record = users.page(None, locale="en", path=f"/fixed-price/{setup['public_id']}/drawing/")
    assert "the published order is reproduced" in record.locator("main").inner_text()
