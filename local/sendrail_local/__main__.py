"""``python -m sendrail_local`` (what ``make run`` starts)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import warnings

from sendrail_local.stack import LocalConfig, LocalStack


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    for noisy in ("mail.log", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(LocalConfig.from_env())
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack.start()
    print(stack.banner(), flush=True)
    stop.wait()
    print("stopping…", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
