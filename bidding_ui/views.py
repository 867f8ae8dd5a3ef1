"""The home page: a dashboard of what is due next for each role of the user, and the
public overview (tenders open for bidding, latest notices) for everyone."""

from django.shortcuts import render

from bidding_ui.dashboard import dashboard_for, public_overview


def home(request):
    return render(
        request,
        "bidding_ui/home.html",
        {"sections": dashboard_for(request.user), **public_overview()},
    )
