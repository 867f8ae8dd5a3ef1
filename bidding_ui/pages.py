"""What every page view of bidding_ui shares: the page decorator, running a service call with its
refusal shown as a message, form errors as messages, pagination, and the refusal page.

One module (docs/ui.md, "Page views"): the views_*.py modules import these instead of keeping
their own copies.

- `page_view(action)`: login (when `action` is given) and the workspace policy rule `action`;
  NotFoundError becomes 404 and NotPermitted 403 (other DomainErrors reach the view's caller).
- `refusal_page(view)`: a DomainError on GET renders experts/refused.html with its status; on
  POST (not 403/404) it becomes an error message and a redirect to the form's `next` field.
- `attempt(request, fn, success)`: run a service call; a DomainError other than NotPermitted is
  shown as an error message (returns None); otherwise the success message, and the call's result
  (True when it returns None).
- `form_errors(request, form)`: every field error as a message, prefixed by the field's label.
- `paginate(request, queryset, size)`: the page named by ?page=.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.policy import can
from config.errors import DomainError, NotFoundError, NotPermitted

PAGE_SIZE = 20


def page_view(action: str | None = None) -> Callable:
    """Login (when `action` is given) and the workspace policy; domain refusals become 404/403."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if action is not None:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not can(request.user, action):
                    raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(exc.message) from None
            except NotPermitted:
                raise PermissionDenied from None

        return wrapper

    return decorate


def attempt(request: HttpRequest, fn: Callable[[], Any], success: str | None = None) -> Any:
    """Run a service call; show its refusal as an error message. Its result (True for None), or None."""
    try:
        result = fn()
    except NotPermitted:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True


def form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def paginate(request: HttpRequest, queryset, size: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def back_target(request: HttpRequest) -> str | None:
    """The page a refused POST returns to: the form's `next` field (same host only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


def refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "experts/refused.html", {"message": exc.message, "code": exc.code}, status=exc.status)


def refusal_page(view: Callable) -> Callable:
    """A refusal on GET renders the refusal page with its status; on POST it becomes a message."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            target = back_target(request)
            if request.method == "POST" and exc.status not in (403, 404) and target:
                messages.error(request, exc.message)
                return redirect(target)
            return refused(request, exc)

    return wrapper
