from django.http import JsonResponse
from django.shortcuts import render

from config.api import error_body


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    message = "Too many failed login attempts; try again later."
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("login_locked", message), status=429)
    return render(request, "bidding_ui/locked_out.html", {"message": message}, status=429)
