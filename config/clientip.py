"""The one place that decides a request's client address (docs/accounts.md, "Client address").

`X-Forwarded-For` is attacker-controlled unless the request came from a proxy the
deployment configured (`TRUSTED_PROXIES`, from `PTRADE_TRUSTED_PROXIES`; none by
default). The address is the TCP peer (`REMOTE_ADDR`) unless that peer is a trusted
proxy; then the forwarded hops are walked from the right and the right-most hop that
is not itself a trusted proxy is the client. django-axes (`AXES_CLIENT_IP_CALLABLE`),
the DRF throttles, bid upload facts and audit events all call `client_ip`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_proxies() -> tuple[Network, ...]:
    """The configured proxies as networks (settings.TRUSTED_PROXIES: IPs or CIDRs)."""
    value = getattr(settings, "TRUSTED_PROXIES", ()) or ()
    if isinstance(value, str):
        value = value.split(",")
    return _networks(tuple(value))


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted_proxy(address: str | None) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in trusted_proxies())


def client_ip(request) -> str | None:
    """The client address of a Django or DRF request, or None when there is no usable one."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    peer = _ip(meta.get("REMOTE_ADDR"))
    if peer is None:
        return None
    networks = trusted_proxies()
    if not networks or not any(peer in net for net in networks):
        return str(peer)
    client = peer
    hops = [h for h in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:  # a malformed hop: nothing left of it can be trusted
            break
        client = ip
        if not any(ip in net for net in networks):
            break
    return str(client)
