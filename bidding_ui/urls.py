from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.throttles import login_throttled
from bidding_ui import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", login_throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Pages per domain area, each in its own module.
    path("", include("bidding_ui.urls_tendering")),
    path("", include("bidding_ui.urls_experts")),
    path("", include("bidding_ui.urls_audit")),
    path("", include("bidding_ui.urls_evaluation")),
    path("", include("bidding_ui.urls_opening")),
    path("", include("bidding_ui.urls_deposits")),
]
