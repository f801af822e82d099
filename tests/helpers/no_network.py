"""A socket guard for the test suite: any connection or name lookup beyond this machine raises.

Installed in the pytest process by ``tests/conftest.py`` and in every Python subprocess the tests start through
``tests/helpers/netguard/sitecustomize.py`` (conftest puts that folder on ``PYTHONPATH``), so "nothing reaches the
network" is checked, not assumed.
"""

from __future__ import annotations

import ipaddress
import socket

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "", None}


class NetworkBlocked(OSError):
    pass


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def install() -> None:
    if getattr(socket, "_grace_guarded", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address) -> None:
        if isinstance(address, tuple) and not _is_local(address[0]):
            raise NetworkBlocked(f"test tried to reach the network: {address!r}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            raise NetworkBlocked(f"test tried to resolve a network name: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
    socket._grace_guarded = True
