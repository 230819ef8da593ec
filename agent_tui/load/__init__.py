"""Load testing on Locust: many scripted conversations at once (``agent-tui load``, ``ConversationUser``).

Importing this package before ``locust`` turns Locust's gevent monkey-patching off for the process (and
its child processes): the conversations run on an asyncio loop in an OS thread of their own, which the
patched standard library breaks (:mod:`agent_tui.load.bridge` says how). Locust's own runners, its
statistics, its web UI and its master/worker messaging use gevent explicitly and need no patching.
"""

import os

os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")
