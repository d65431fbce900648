"""Who owns a loopback TCP socket: one netlink ``sock_diag`` query (Linux), ``/proc/net/tcp`` as the fallback.

The endpoint refuses connections from another user's socket, and a hook that started the watcher waits only
for a listener that is the user's. ``/proc/net/tcp`` answers both, but the kernel writes out every TCP socket
of the machine to do it (1.5 ms with 150 sockets, more on a busy desktop). A ``SOCK_DIAG_BY_FAMILY`` request
names the one socket (its four-tuple) and the kernel answers with its ``idiag_uid`` in some tens of
microseconds.

Hot path: ``_socket`` only (no ``socket``, which imports ``enum``; no ``struct``, no ``os``).
"""

import _socket

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
TCP = 6
LISTEN = 10
LOOPBACK = bytes((127, 0, 0, 1))
NO_COOKIE = b"\xff" * 8
ANY_STATE = 0xFFFFFFFF


def _request(local_port: int, remote_port: int, remote: bytes, states: int) -> bytes:
    """An ``nlmsghdr`` + ``inet_diag_req_v2`` naming one IPv4 TCP socket by its four-tuple."""
    sockid = (
        local_port.to_bytes(2, "big")
        + remote_port.to_bytes(2, "big")
        + LOOPBACK
        + bytes(12)
        + remote
        + bytes(12)
        + bytes(4)  # any interface
        + NO_COOKIE
    )
    req = bytes((_socket.AF_INET, TCP, 0, 0)) + states.to_bytes(4, "little") + sockid
    header = (16 + len(req)).to_bytes(4, "little") + SOCK_DIAG_BY_FAMILY.to_bytes(2, "little")
    return header + NLM_F_REQUEST.to_bytes(2, "little") + (1).to_bytes(4, "little") + bytes(4) + req


def _netlink_uid(local_port: int, remote_port: int, remote: bytes, states: int) -> "int | None":
    sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    try:
        sock.settimeout(1.0)
        sock.sendto(_request(local_port, remote_port, remote, states), (0, 0))
        answer = sock.recv(8192)
    finally:
        sock.close()
    if len(answer) < 16 or int.from_bytes(answer[4:6], "little") == NLMSG_ERROR:
        return None  # no such socket (ENOENT), or the kernel refused
    body = answer[16:]
    # inet_diag_msg: family, state, timer, retrans (4) + sockid (48) + expires, rqueue, wqueue (12) + uid
    if len(body) < 68:
        return None
    return int.from_bytes(body[64:68], "little")


def _proc_uid(local_port: int, remote_port: int, listening: bool) -> "int | None":
    want_local = b"0100007F:%04X" % local_port
    want_remote = b":%04X" % remote_port
    with open("/proc/net/tcp", "rb") as table:
        rows = table.read().split(b"\n")[1:]
    for row in rows:
        fields = row.split()
        mine = (listening and fields[3:4] == [b"0A"]) or (
            not listening and fields[2:3] and fields[2].endswith(want_remote)
        )
        if len(fields) > 7 and fields[1] == want_local and mine:
            return int(fields[7])
    return None


def connection_uid(client_port: int, server_port: int) -> "int | None":
    """The uid owning the connecting socket 127.0.0.1:``client_port`` -> 127.0.0.1:``server_port``."""
    try:
        return _netlink_uid(client_port, server_port, LOOPBACK, ANY_STATE)
    except OSError:
        return _proc_uid(client_port, server_port, listening=False)


def listener_uid(port: int) -> "int | None":
    """The uid owning the socket listening on 127.0.0.1:``port`` (None: nothing listens there)."""
    try:
        return _netlink_uid(port, 0, bytes(4), 1 << LISTEN)
    except OSError:
        return _proc_uid(port, 0, listening=True)
