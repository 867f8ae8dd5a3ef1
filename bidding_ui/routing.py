from django.urls import path  # noqa: F401

websocket_urlpatterns: list = []

from bidding_ui.consumers.opening import OpeningRoomConsumer  # noqa: E402

websocket_urlpatterns += [path("ws/opening/<int:tender_id>/", OpeningRoomConsumer.as_asgi())]

# Live supervision dashboard (supervisors): bidding_ui/consumers/supervision.py
from bidding_ui.consumers.supervision import SupervisionConsumer  # noqa: E402

websocket_urlpatterns.append(path("ws/supervision/", SupervisionConsumer.as_asgi()))

# The fixed-price drawing room (anyone may watch): smallworks/consumers.py
from smallworks.consumers import DrawingRoomConsumer  # noqa: E402

websocket_urlpatterns.append(path("ws/fixed-price/<int:project_id>/", DrawingRoomConsumer.as_asgi()))

# Live bidding rooms of land-use rights and state-asset trades (auctions/consumers.py).
from auctions.consumers import AuctionRoomConsumer  # noqa: E402

websocket_urlpatterns.append(path("ws/auctions/<str:trade>/", AuctionRoomConsumer.as_asgi()))
