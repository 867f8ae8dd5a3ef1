"""Pages of the auctions app: notices and results (public), the agent's and transferor's desk, the
buyer's application, the live room, the supervisors' live view. Thin: each POST calls one service."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.policy import can
from auctions import selectors
from auctions.models import Buyer, CustodianShare, TradeStatus
from auctions.services import bidding, buyers, ending, trades
from config.errors import DomainError

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


def _domain_errors(view: Callable) -> Callable:
    """A refused action (DomainError) returns to the trade page with its message."""

    @wraps(view)
    def wrapped(request: HttpRequest, pk, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, pk, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 404:
                raise
            messages.error(request, exc.message)
            return redirect("auctions:detail", pk=pk)

    return wrapped


def trade_list(request: HttpRequest) -> HttpResponse:
    return render(request, "auctions/list.html", {
        "trades": [selectors.trade_public(t) for t in selectors.trades_visible(user=request.user)[:200]],
        "may_create": can(request.user, "auction.create"),
        "may_supervise": can(request.user, "auction.supervise"),
    })


def results(request: HttpRequest) -> HttpResponse:
    return render(request, "auctions/results.html",
                  {"trades": [selectors.trade_public(t) for t in selectors.results_public()[:200]]})


def trade_detail(request: HttpRequest, pk) -> HttpResponse:
    trade = selectors.trade_get(user=request.user, public_id=pk)
    bidding.trade_advance(trade=trade)
    trade.refresh_from_db()
    user = request.user
    mine = selectors.buyer_of(user=user, trade=trade)
    share = CustodianShare.objects.filter(trade=trade, custodian_id=user.pk).first() if user.is_authenticated \
        else None
    context = {
        "trade": trade, "t": selectors.trade_public(trade),
        "is_agent": can(user, "auction.manage", trade), "is_transferor": can(user, "auction.seal_reserve", trade),
        "may_apply": mine is None and can(user, "auction.apply", trade)
        and trade.status in (TradeStatus.PUBLISHED, TradeStatus.LISTING),
        "mine": selectors.buyer_view(mine) if mine else None,
        "may_room": can(user, "auction.room", trade),
        "applications": selectors.buyers_for(user=user, trade=trade) if can(user, "auction.view_buyers", trade)
        else None,
        "share": share, "has_confirmation": hasattr(trade, "confirmation") and can(user, "auction.confirmation", trade),
        "page_config": {"trade": str(trade.public_id), "openingKey": trade.opening_public_spki,
                        "api": reverse("api-auction", kwargs={"pk": trade.public_id}),
                        "share": share.container if share and share.released is None else None},
    }
    return render(request, "auctions/detail.html", context)


@login_required
@require_POST
@_domain_errors
def trade_action(request: HttpRequest, pk) -> HttpResponse:
    """The agent's buttons: publish, qualify/reject, increment, publish result, relist."""
    trade = selectors.trade_get(user=request.user, public_id=pk)
    action = request.POST.get("action", "")
    if action == "publish":
        trades.trade_publish(actor=request.user, trade=trade)
        messages.success(request, _("The notice is published."))
    elif action in ("qualify", "reject"):
        buyer = Buyer.objects.filter(trade=trade, public_id=request.POST.get("buyer") or None).first()
        if buyer is None:
            raise DomainError(_("No such application."))
        buyers.buyer_review(actor=request.user, buyer=buyer, qualified=action == "qualify",
                            note=request.POST.get("note", ""))
        messages.success(request, _("The review is recorded."))
    elif action == "increment":
        trades.trade_increment_change(actor=request.user, trade=trade, increment=request.POST.get("increment", ""),
                                      reason=request.POST.get("reason", ""))
        messages.success(request, _("The increment is changed."))
    elif action == "result":
        ending.result_publish(actor=request.user, trade=trade)
        messages.success(request, _("The result is published."))
    elif action == "live_round":
        mine = selectors.buyer_of(user=request.user, trade=trade)
        if mine is None:
            raise DomainError(_("Your organisation has not applied to this trade."))
        buyers.buyer_live_round_declare(actor=request.user, buyer=mine)
        messages.success(request, _("You will go on to the timed round if the listing ends with two or more."))
    else:
        raise DomainError(_("Unknown action."))
    return redirect("auctions:detail", pk=pk)


@login_required
@require_POST
@_domain_errors
def apply(request: HttpRequest, pk) -> HttpResponse:
    """Apply with documents: the page keeps each file's name, size and SHA-256 (the files themselves
    go to the agent through its usual channel; docs/auctions.md)."""
    trade = selectors.trade_get(user=request.user, public_id=pk)
    documents = []
    for f in request.FILES.getlist("documents")[:20]:
        if f.size > MAX_DOCUMENT_BYTES:
            raise DomainError(_("A document is at most 50 MB."))
        digest = hashlib.sha256()
        for chunk in f.chunks():
            digest.update(chunk)
        documents.append({"name": f.name, "size": f.size, "sha256": digest.hexdigest()})
    buyers.buyer_apply(actor=request.user, trade=trade, documents=documents)
    messages.success(request, _("Your application is filed. Pay the deposit to your virtual sub-account."))
    return redirect("auctions:detail", pk=pk)


@login_required
@require_http_methods(["GET"])
def room(request: HttpRequest, pk) -> HttpResponse:
    trade = selectors.trade_get(user=request.user, public_id=pk, action="auction.room")
    bidding.trade_advance(trade=trade)
    last_id, state = selectors.room_snapshot(user=request.user, trade=trade)
    config = {"trade": str(trade.public_id), "ws": f"/ws/auctions/{trade.public_id}/",
              "bidUrl": reverse("api-auction-bids", kwargs={"pk": trade.public_id}),
              "detail": reverse("auctions:detail", kwargs={"pk": trade.public_id}),
              "lastId": last_id, "serverTime": state["server_time"]}
    return render(request, "auctions/room.html", {"trade": trade, "config": config, "initial": state,
                                                  "supervisor": state["numbers"] is not None})


@login_required
def supervise(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "auction.supervise"):
        raise PermissionDenied
    return render(request, "auctions/supervise.html", {"rooms": selectors.running_trades()})
