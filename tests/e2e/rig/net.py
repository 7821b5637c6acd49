"""Small urllib helpers: HTTPS that trusts a given CA file, JSON GET/POST."""
import json
import ssl
import urllib.error
import urllib.request


def ssl_context(ca_file):
    ctx = ssl.create_default_context(cafile=str(ca_file))
    return ctx


def fetch(url, ca_file=None, method="GET", data=None, headers=None, timeout=5.0):
    """Returns (status, headers, body bytes). HTTP error statuses are returned, not raised."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    ctx = ssl_context(ca_file) if url.startswith("https:") and ca_file else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def get_json(url, ca_file=None, timeout=5.0):
    status, _, body = fetch(url, ca_file=ca_file, timeout=timeout)
    if status != 200:
        raise RuntimeError("GET %s: HTTP %d: %r" % (url, status, body[:200]))
    return json.loads(body)


def post_json(url, obj, ca_file=None, timeout=5.0):
    data = json.dumps(obj).encode()
    status, _, body = fetch(url, ca_file=ca_file, method="POST", data=data,
                            headers={"Content-Type": "application/json"}, timeout=timeout)
    if status != 200:
        raise RuntimeError("POST %s %s: HTTP %d: %r" % (url, data, status, body[:200]))
    return body
