"""An HTTP session that only talks to public addresses, checked on the
connected socket itself.

``jobs.webhooks.check_callback_url`` refuses a callback whose host resolves
to a loopback, private, link-local or reserved address, but the HTTP client
resolves the host again when it connects: a host that answers DNS with a
public address for the check and a private one for the connection (DNS
rebinding) would still reach into the VPC. Here every new connection's
peer address (``getpeername``) goes through the same policy before a byte
is sent, so what is checked is what is connected to. Environment proxies
are not used (a proxy's address would be the one checked).
"""

from __future__ import annotations

import ipaddress
import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class NonPublicAddress(ValueError):
    """An address that is loopback, private, link-local, multicast, reserved
    or unspecified."""


def check_public(address: str) -> None:
    """Check one IPv4 or IPv6 address (a zone suffix ``%eth0`` is ignored).

    Raises:
        NonPublicAddress: not a global unicast address (Python's
            ``ipaddress`` ``is_global``, which follows the IANA special-purpose
            registries, RFC 6890), or multicast.
    """
    parsed = ipaddress.ip_address(address.split("%")[0])
    if not parsed.is_global or parsed.is_multicast:
        raise NonPublicAddress(f"{address} is a loopback, private, link-local or reserved address")


def _checked(sock: socket.socket) -> socket.socket:
    try:
        check_public(sock.getpeername()[0])
    except NonPublicAddress:
        sock.close()
        raise
    return sock


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def public_session() -> requests.Session:
    """A ``requests`` session whose every connection is to a public address.

    Its requests raise ``NonPublicAddress`` (not a ``requests`` exception)
    when the connected peer is not public; nothing is sent to it.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = _PublicAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
