"""The suite runs every command afresh: no result is answered from, or stored in, the
user's cache (tests/cli/test_cache.py turns it on in a folder of its own)."""

import os

os.environ["CNNSPEC_CACHE"] = "0"
