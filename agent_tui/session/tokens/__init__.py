"""Where a participant token comes from: literal, custom, endpoint and sandbox, local minting, the cache, and
the checks on a JWT's claims. Private: front ends import these names from :mod:`agent_tui.session`."""
