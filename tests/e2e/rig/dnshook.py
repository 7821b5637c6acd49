"""A dns-01 hook program for tests: sets and clears TXT records through pebble-challtestsrv's management API and
logs its arguments, one call per line."""
import os

from .proc import write_program

HOOK = """#!/usr/bin/python3
# dns-01 hook for the tests: sets/clears the TXT record through pebble-challtestsrv's management API
import json, sys, urllib.request
def post(path, obj):
    req = urllib.request.Request("%(mgmt)s" + path, data=json.dumps(obj).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()
with open("%(log)s", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
action, domain = sys.argv[1], sys.argv[2]
host = "_acme-challenge." + domain + "."
if action == "setup":
    post("/set-txt", {"host": host, "value": sys.argv[3]})
elif action == "teardown":
    post("/clear-txt", {"host": host})
else:
    sys.exit(3)
"""


def write_dns_hook(directory, management_url):
    """Write the hook into directory (mode 0755); returns (its path, the path of its call log)."""
    log = os.path.join(directory, "dns-hook.log")
    return write_program(os.path.join(directory, "dns-hook.py"), HOOK % {"mgmt": management_url, "log": log}), log
