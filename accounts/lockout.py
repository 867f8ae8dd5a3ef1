from django.http import JsonResponse
from django.shortcuts import render

from config.api import error_body

LOCKED_MESSAGE = "Too many failed login attempts; try again later."


def lockout_response(request, response=None, credentials=None, *args, message: str = LOCKED_MESSAGE, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("login_locked", message), status=429)
    return render(request, "bidding_ui/locked_out.html", {"message": message}, status=429)
