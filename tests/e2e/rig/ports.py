"""Free TCP/UDP ports from the OS on 127.0.0.1 (bind to port 0), never fixed numbers."""
import socket
import threading

_lock = threading.Lock()
_handed_out = set()


def _probe(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _udp_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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
