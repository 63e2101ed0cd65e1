"""Billing documents: Factur-X PDF renders per second for a 20-line invoice, and peak memory (issue 11).

Builds one issued invoice through billing's own domain (Invoice.draft_new, start_issue, issue: 20 lines at two VAT
rates, 20 % and 5.5 %, two of them with a line discount, a 5 % document discount, a French seller with SIREN, VAT
number and IBAN, a French company as buyer), prints it as the worker's printing consumer and the `.../pdf` route do
(printed_invoice, with its EN 16931 XML from cross_industry_invoice.e_invoice_xml), then times `--renders` calls of
document_rendering.render_pdf after `--warmup` ones: Jinja2 HTML -> WeasyPrint PDF/A-3b -> factur-x.xml (CII)
built and embedded, the bytes a customer gets. Everything runs in this process: no database, broker or service
(the `database_server` reporting.save adds to every report played no part).

Reported: renders per second (one after the other, one thread), p50/p95 of one render (wall clock, and the
process's CPU time: on a loaded machine the first waits for a core, the second does not), then each part timed on its
own (`--part-runs` times each: the XML, the print HTML, WeasyPrint's PDF, the embedding, which checks the XML against
the Factur-X XSD), and two peaks of memory:
  rss_peak_mib                the process's resident set high-water mark (getrusage ru_maxrss): what the OS had
                              to give, Python and C (Pango, HarfBuzz, fontconfig, lxml) alike, imports included
                              (rss_after_imports_mib: the same mark before the first render).
  python_peak_one_render_mib  tracemalloc's peak of Python allocations during one render (after the timed ones, so its
                              tracing does not slow them): what one render holds at once on the Python heap,
                              C allocations excluded.
Run it (nothing needs to be up):  python benchmarks/render_documents.py [--renders 50] [--keep-pdf out.pdf]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from datetime import date, datetime, timezone
from importlib.metadata import version
from pathlib import Path

from billing.adapters import document_rendering
from billing.adapters.cross_industry_invoice import e_invoice_xml
from billing.adapters.document_rendering import render_pdf
from billing.adapters.factur_x_pdf import embed_factur_x
from billing.domain.invoices import Invoice
from billing.domain.printed_documents import printed_invoice
from billing.domain.seller_identity import merged
from billing.service_layer.printing import KEPT_LANGUAGE, with_e_invoice
from weasyprint import HTML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reporting import percentile, save  # noqa: E402

LINES = 20
SELLER = {"name": "Agence Dupont SARL", "siren": "732829320", "vat_number": "FR44732829320",
          "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "email": "facturation@example.com",
          "address": {"street": ["1 rue de la Paix"], "postal_code": "75002", "city": "Paris", "country": "FR"}}
BUYER = {"name": "Louise Martin", "company": "Atelier Martin", "vat_number": "FR40303265045",
         "address": {"street": "3 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"},
         "emails": ["louise@example.com"]}
# (description, unit, unit price, VAT rate): services at 20 %, books at 5.5 %, cycled over the 20 lines
ITEMS = [("Développement du site, sprint", "jour", "450.00", "20"), ("Livre « Le Web », édition reliée", "pièce",
                                                                   "24.99", "5.5"),
         ("Intégration des maquettes", "heure", "65.00", "20"), ("Guide d'accessibilité numérique", "pièce",
                                                               "18.50", "5.5"),
         ("Hébergement mensuel", "mois", "39.90", "20")]


def twenty_line_invoice() -> Invoice:
    """An issued invoice of LINES lines at two VAT rates, two line discounts and a document discount."""
    lines = []
    for position in range(LINES):
        description, unit, price, rate = ITEMS[position % len(ITEMS)]
        line = {"description": f"{description} n° {position + 1}", "quantity": str(1 + position % 4), "unit": unit,
                "unit_price": price, "taxes": [{"category": "S", "rate": rate}]}
        if position in (3, 11):
            line["discount"] = {"kind": "percent", "value": "15"}
        lines.append(line)
    invoice = Invoice.draft_new("acct-bench", "contact:bench", {
        "currency": "EUR", "lines": lines, "discount": {"kind": "percent", "value": "5"},
        "payment_term": {"kind": "net", "days": 30}, "notes": "Merci de votre confiance."})
    invoice.start_issue(None, date(2026, 3, 11), "contact:bench", BUYER, merged({}, SELLER), "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0042")
    return invoice


def timed(function, runs: int, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds of each of `runs` calls (wall clock); their CPU milliseconds appended to `cpu` if given."""
    times = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return times


def summary(times: list[float]) -> dict:
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}


def rss_peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # ru_maxrss is in KiB on Linux


def pango_version() -> str:
    """Pango's version as WeasyPrint loaded it ("1.50.12"): it does the text layout, most of a render's time."""
    from weasyprint.text.ffi import pango
    number = pango.pango_version()  # major * 10000 + minor * 100 + micro
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50, help="timed renders of the whole Factur-X PDF")
    parser.add_argument("--warmup", type=int, default=3, help="renders before the timed ones (fonts, caches)")
    parser.add_argument("--part-runs", type=int, default=10, help="timed runs of each part on its own")
    parser.add_argument("--lang", default=KEPT_LANGUAGE, choices=sorted(document_rendering.LANGUAGES))
    parser.add_argument("--keep-pdf", type=Path, help="write the last rendered PDF there")
    args = parser.parse_args(argv)
    rss_after_imports = rss_peak_mib()
    invoice = twenty_line_invoice()
    document = with_e_invoice(printed_invoice(invoice, {}), invoice, e_invoice_xml)
    pdf = b""

    def render() -> None:
        nonlocal pdf
        pdf = render_pdf(document, args.lang)

    timed(render, args.warmup)
    cpu: list[float] = []  # on a loaded machine the wall clock waits for a core; the CPU time does not
    renders = timed(render, args.renders, cpu)
    # the parts, each on its own: what render_pdf does in this order (document_rendering._render is its print HTML)
    xml = e_invoice_xml(invoice)
    html = document_rendering._render(document, args.lang, for_print=True)
    bare = HTML(string=html, base_url=str(document_rendering._TEMPLATES)).write_pdf(
        pdf_variant=document_rendering.PDF_VARIANT, custom_metadata=False, uncompressed_pdf=False)
    parts = {
        "xml_build": summary(timed(lambda: e_invoice_xml(invoice), args.part_runs)),
        "html_render": summary(timed(lambda: document_rendering._render(document, args.lang, for_print=True),
                                     args.part_runs)),
        "weasyprint_pdf_a3b": summary(timed(lambda: HTML(
            string=html, base_url=str(document_rendering._TEMPLATES)).write_pdf(
            pdf_variant=document_rendering.PDF_VARIANT, custom_metadata=False, uncompressed_pdf=False),
            args.part_runs)),
        "factur_x_embed": summary(timed(lambda: embed_factur_x(bare, xml), args.part_runs)),
    }
    rss_peak = rss_peak_mib()
    tracemalloc.start()
    render()
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if args.keep_pdf:
        args.keep_pdf.write_bytes(pdf)
    total_s = sum(renders) / 1000
    save({"benchmark": "render_documents", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "backend": f"in process, no database: WeasyPrint {version('weasyprint')} (Pango {pango_version()}), "
                     f"factur-x {version('factur-x')}, drafthorse {version('drafthorse')}",
          "document": f"issued invoice, {LINES} lines, VAT 20 % and 5.5 %, line and document discounts, "
                      f"lang {args.lang}", "pdf_bytes": len(pdf), "xml_bytes": len(xml),
          "warmup": args.warmup, "renders": args.renders,
          "renders_per_s": round(args.renders / total_s, 2) if total_s else None, "render": summary(renders),
          "render_cpu": summary(cpu),
          "parts": parts, "part_runs": args.part_runs,
          "memory": {"rss_peak_mib": rss_peak, "rss_after_imports_mib": rss_after_imports,
                     "python_peak_one_render_mib": round(python_peak / 2**20, 1)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
