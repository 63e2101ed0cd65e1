"""PDFs laid out in a child process: WeasyPrint's 0.4-0.8 s of pure-Python CPU per document, run in the worker's
own process, holds the GIL and starves its other consumers' threads (docs/figures.md, "Billing: issuing invoices
through the gateway": the read model minutes behind after a burst of issues).

The parent keeps what needs the document (its print HTML, its XML: service_layer/printing.py passes a document whose
`e_invoice_xml` is a closure); the child gets plain strings and bytes and returns the PDF. One child, started with
"spawn" (no fork of a process holding Kafka and MongoDB clients and threads), when the first PDF is asked for.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from crm_platform.json_logging import configure_logging

from billing.adapters.document_labels import DEFAULT_LANGUAGE
from billing.adapters.document_rendering import pdf_from_print_html, print_inputs
from billing.domain.printed_documents import PrintedDocument

log = logging.getLogger(__name__)

RENDER_TIMEOUT_S = 120.0  # a 20-line invoice takes under a second; far past this, the child is stuck


class RenderTimedOut(Exception):
    """The child did not return a PDF in time (it is killed; the next render starts another)."""


class OutOfProcessRenderer:
    """A `Renderer` (document, lang) -> PDF bytes whose layout runs in one child process, started on first use.

    A child that died (killed, out of memory) is replaced and the render tried once more; a second failure
    propagates, for the consumer's retries and dead letters to handle as they do any render error."""

    def __init__(self, timeout_s: float = RENDER_TIMEOUT_S, log_as: str = "billing-worker-render",
                 log_level: str = "INFO") -> None:
        self.timeout_s = timeout_s
        self._log = (log_as, log_level)  # the child logs JSON lines as the worker does
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self, document: PrintedDocument, lang: str = DEFAULT_LANGUAGE) -> bytes:
        html, xml = print_inputs(document, lang)
        try:
            return self._in_child(pdf_from_print_html, html, xml)
        except BrokenProcessPool:
            log.warning("the PDF render process died: starting another")
            return self._in_child(pdf_from_print_html, html, xml)

    def child_pid(self) -> int:
        """The pid of the process that renders (started if need be): for the tests and the operator."""
        return self._in_child(os.getpid)

    def close(self) -> None:
        """Stop the child (the worker's shutdown), without waiting on a stuck render: a render in flight gets a few
        seconds, then the child is killed. A later render starts another."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(pool._processes.values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=5.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=5.0)

    def _in_child(self, function, *args):
        with self._lock:  # the pool and the future together: a failure discards that pool, never a newer one
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_child_started, initargs=(os.getpid(), *self._log))
            pool = self._pool
            try:
                future = pool.submit(function, *args)
            except BrokenProcessPool:  # its child died while idle: the next call starts another
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        try:
            return future.result(timeout=self.timeout_s)
        except BrokenProcessPool:
            self._discard(pool)
            raise
        except TimeoutError:
            self._discard(pool, kill=True)
            raise RenderTimedOut(f"no PDF after {self.timeout_s:g} s") from None

    def _discard(self, pool: ProcessPoolExecutor, kill: bool = False) -> None:
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
        if kill:  # a stuck render: shutdown would wait for it; the executor has no public kill before Python 3.14
            for process in list(pool._processes.values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def _child_started(parent_pid: int, log_as: str, log_level: str) -> None:
    """In the child: log JSON lines as the worker does; leave SIGINT and SIGTERM (sent to the worker's whole process
    group by Ctrl-C or an orchestrator) to the worker, which closes the pool; exit once the worker is gone."""
    configure_logging(log_as, log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _exit_with_parent(parent_pid)


def _exit_with_parent(parent_pid: int) -> None:
    """In the child: exit once the worker is gone (seen: a spawned pool's child holds both ends of its call queue's
    pipe, so a parent killed with SIGKILL leaves it waiting on that queue forever, an orphan)."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
