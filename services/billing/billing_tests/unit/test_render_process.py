"""OutOfProcessRenderer: the worker's printing consumer lays PDFs out in a child process (its CPU off the worker's
GIL), gets the same Factur-X PDF as render_pdf, and survives a child that was killed."""
import io
import os
import signal
import subprocess
import sys
import time

import pikepdf
import pytest

from billing.adapters import document_rendering
from billing.adapters.cross_industry_invoice import e_invoice_xml
from billing.adapters.document_rendering import render_pdf
from billing.adapters.render_process import OutOfProcessRenderer, RenderTimedOut
from billing.domain.printed_documents import printed_invoice
from billing.service_layer.printing import with_e_invoice

from .test_invoices import issued


@pytest.fixture(scope="module")
def renderer():
    renderer = OutOfProcessRenderer(timeout_s=60)
    yield renderer
    renderer.close()


def issued_printed():
    invoice = issued()
    return with_e_invoice(printed_invoice(invoice, {}), invoice, e_invoice_xml), e_invoice_xml(invoice)


def test_the_pdf_is_render_pdfs_a_factur_x_pdf_a_3b_with_the_invoices_xml(renderer):
    document, xml = issued_printed()
    pdf = pikepdf.open(io.BytesIO(renderer(document, "fr")))
    in_process = pikepdf.open(io.BytesIO(render_pdf(document, "fr")))
    assert pdf.attachments["factur-x.xml"].get_file().read_bytes() == xml
    assert len(pdf.pages) == len(in_process.pages) >= 1
    assert str(pdf.open_metadata().get("{http://www.aiim.org/pdfa/ns/id/}part")) == "3"


def test_the_layout_runs_in_another_process_the_same_one_each_time(renderer, monkeypatch):
    def no_layout_here(*args, **kwargs):
        raise AssertionError("WeasyPrint called in the worker's own process")

    monkeypatch.setattr(document_rendering, "HTML", no_layout_here)  # this process's module only
    document, _ = issued_printed()
    first = renderer.child_pid()
    assert renderer(document, "en").startswith(b"%PDF-")
    assert first != os.getpid() and renderer.child_pid() == first


def test_a_killed_child_is_replaced_at_the_next_render(renderer):
    document, xml = issued_printed()
    killed = renderer.child_pid()
    os.kill(killed, signal.SIGKILL)
    time.sleep(0.5)  # the pool sees its child gone (or the render finds out: either way it is retried once)
    pdf = pikepdf.open(io.BytesIO(renderer(document, "fr")))
    assert pdf.attachments["factur-x.xml"].get_file().read_bytes() == xml
    assert renderer.child_pid() not in (killed, os.getpid())


def test_the_child_exits_when_the_worker_is_killed():
    worker_code = ("import time\nfrom billing.adapters.render_process import OutOfProcessRenderer\n"
                   "renderer = OutOfProcessRenderer()\n"  # held: a pool collected stops its child
                   "print(renderer.child_pid(), flush=True)\ntime.sleep(600)")
    worker = subprocess.Popen([sys.executable, "-c", worker_code], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        child = int(worker.stdout.readline())
    finally:
        worker.kill()  # SIGKILL: no shutdown, no atexit
        worker.wait()
    deadline = time.monotonic() + 15
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    outlived = alive(child)
    if outlived:
        os.kill(child, signal.SIGKILL)  # no orphan left behind by a failing run
    assert not outlived, f"render process {child} outlived its worker"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" not in status.read()  # a zombie not reaped yet has exited
    except FileNotFoundError:
        return False


def test_a_render_past_its_time_kills_the_child_and_the_next_one_starts_another():
    renderer = OutOfProcessRenderer(timeout_s=60.0)
    try:
        stuck = renderer.child_pid()  # started (a spawned child takes seconds on a busy machine)
        renderer.timeout_s = 1.0
        with pytest.raises(RenderTimedOut):
            renderer._in_child(time.sleep, 30)
        renderer.timeout_s = 60.0
        deadline = time.monotonic() + 5
        while alive(stuck) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(stuck), "the stuck child is killed, not left rendering"
        assert renderer.child_pid() not in (stuck, os.getpid())
    finally:
        renderer.close()


def test_closing_does_not_wait_for_a_stuck_render():
    """The worker's shutdown: a render in flight gets a few seconds, then its child is killed."""
    import threading

    renderer = OutOfProcessRenderer(timeout_s=60.0)
    child = renderer.child_pid()
    threading.Thread(target=lambda: pytest.raises(Exception, renderer._in_child, time.sleep, 30), daemon=True).start()
    time.sleep(0.5)
    started = time.monotonic()
    renderer.close()
    assert time.monotonic() - started < 15 and not alive(child)
