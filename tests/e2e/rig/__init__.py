"""End-to-end test rig for mdomain: free ports, generated certificates, managed processes, pebble,
pebble-challtestsrv and a private Apache httpd. Used by tests/e2e/conftest.py."""
