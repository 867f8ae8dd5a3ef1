"""Page routes of the auctions app (included at /auctions/ by config/urls.py)."""

from django.urls import path

from auctions import views

app_name = "auctions"
urlpatterns = [
    path("", views.trade_list, name="list"),
    path("results/", views.results, name="results"),
    path("supervision/", views.supervise, name="supervise"),
    path("<uuid:pk>/", views.trade_detail, name="detail"),
    path("<uuid:pk>/action", views.trade_action, name="action"),
    path("<uuid:pk>/apply", views.apply, name="apply"),
    path("<uuid:pk>/room/", views.room, name="room"),
]
