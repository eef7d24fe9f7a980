"""The dispatch engine: from SQS messages to sent mail, within every limit, exactly once,
in parallel lanes across mailboxes. The run is :class:`Dispatcher` (``engine``); each part
answers one question:

- ``admission``: may this message be sent now (campaign running, not suppressed, in its
  windows)?
- ``reservation``: on which mailbox, with which units of which limits held?
- ``lanes``: which connection sends it, and when, so that no mailbox stalls the others?
- ``sending``: one claim and one send, classified into a result;
- ``ledger``: what is written, in which order and batches;
- ``health``: when is a mailbox paused?
- ``recovery``: what happened to a claim whose dispatcher died?
- ``ports``: what the engine needs of storage (and ``senders``: of the providers).
"""

from sendrail.services.dispatch.engine import Dispatcher
from sendrail.services.dispatch.senders import ProviderSenders
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport

__all__ = ["DispatchOptions", "DispatchReport", "Dispatcher", "ProviderSenders"]
