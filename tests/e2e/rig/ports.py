"""Free TCP/UDP ports on 127.0.0.1, never fixed numbers, and outside the kernel's ephemeral range.

A port taken from bind(("127.0.0.1", 0)) lies in the ephemeral range (net.ipv4.ip_local_port_range), which the kernel
also hands to outgoing connections as their source port: between the probe and the server's own bind, any client on
the machine (the tests' own requests, other test runs) could take it, and the server then failed with "address
already in use". Ports below (or above) that range are only ever taken by an explicit bind, so a random free one
there stays free until the server binds it, unless another run happens to pick the same one at the same moment
(servers whose port is not written into other configurations retry then: pebble, challtestsrv; the others bind
port 0 themselves). Test processes of one run side by side (pytest-xdist workers) pick from slices of their own."""
import os
import random
import socket
import threading

_lock = threading.Lock()
_handed_out = set()
_rng = random.SystemRandom()


def _outside_ephemeral():
    """(low, high) of the ports to pick from: below the ephemeral range, else above it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low > 12000:
        low, high = 10000, low - 1
    else:
        low, high = high + 1, 65535
    return _worker_slice(low, high)


def _worker_slice(low, high):
    """This xdist worker's share of [low, high] (gwK of N gets the K-th of N slices); all of it outside xdist."""
    try:
        k = int(os.environ.get("PYTEST_XDIST_WORKER", "")[2:])
        n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", ""))
    except ValueError:
        return low, high
    if n < 2 or not 0 <= k < n:
        return low, high
    width = (high - low + 1) // n
    return low + k * width, low + (k + 1) * width - 1


def _bindable(port, kind):
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _probe(kind):
    low, high = _outside_ephemeral()
    for _ in range(200):
        port = _rng.randint(low, high)
        if _bindable(port, kind):
            return port
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bindable(port):
    """True when a TCP server could bind port on 127.0.0.1 now."""
    return _bindable(port, socket.SOCK_STREAM)


def _udp_free(port):
    return _bindable(port, socket.SOCK_DGRAM)


def free_port(udp_too=False):
    """A port on 127.0.0.1 that is free now and not handed out before in this test run.
    With udp_too the port is also free for UDP (for a DNS server that listens on both)."""
    with _lock:
        for _ in range(200):
            port = _probe(socket.SOCK_STREAM)
            if port in _handed_out:
                continue
            if udp_too and not _udp_free(port):
                continue
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found on 127.0.0.1")


def free_ports(n, udp_too=False):
    return [free_port(udp_too=udp_too) for _ in range(n)]


def is_listening(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
