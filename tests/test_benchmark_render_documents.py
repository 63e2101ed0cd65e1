"""benchmarks/render_documents.py (issue 11's figures) run with two renders: its report holds the figures, and the PDF
it times is the Factur-X a customer gets (a PDF with factur-x.xml of the 20 lines at two VAT rates embedded)."""
from __future__ import annotations

import json
from pathlib import Path

import pikepdf
from lxml import etree

from crm_platform.testing.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "render_documents.py"
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


def test_two_renders_report_their_figures_and_time_a_factur_x_pdf_of_twenty_lines(tmp_path, monkeypatch):
    bench = load_script(SCRIPT)
    reporting = bench.save.__globals__  # where the report is saved: under tmp_path, not the checkout
    monkeypatch.setitem(reporting, "REPO", tmp_path)
    monkeypatch.setitem(reporting, "database_server", lambda: "not used")
    pdf_path = tmp_path / "invoice.pdf"

    assert bench.main(["--renders", "2", "--warmup", "1", "--part-runs", "1", "--keep-pdf", str(pdf_path)]) == 0

    [saved] = (tmp_path / "benchmarks" / "results").glob("render_documents-*.json")
    report = json.loads(saved.read_text())
    assert report["renders"] == 2 and report["renders_per_s"] > 0
    assert 0 < report["render"]["p50_ms"] <= report["render"]["p95_ms"]
    assert 0 < report["render_cpu"]["p50_ms"] <= report["render_cpu"]["p95_ms"]
    assert set(report["parts"]) == {"xml_build", "html_render", "weasyprint_pdf_a3b", "factur_x_embed"}
    memory = report["memory"]
    assert memory["rss_peak_mib"] >= memory["rss_after_imports_mib"] > 0 and memory["python_peak_one_render_mib"] > 0
    assert pdf_path.read_bytes().startswith(b"%PDF") and report["pdf_bytes"] == pdf_path.stat().st_size
    with pikepdf.open(pdf_path) as pdf:
        xml = pdf.attachments["factur-x.xml"].get_file().read_bytes()
        assert (pdf.open_metadata()["pdfaid:part"], pdf.open_metadata()["pdfaid:conformance"]) == ("3", "B")
    cii = etree.fromstring(xml)
    assert len(cii.findall(f".//{RAM}IncludedSupplyChainTradeLineItem")) == 20
    settlement = cii.find(f".//{RAM}ApplicableHeaderTradeSettlement")
    rates = [tax.findtext(f"{RAM}RateApplicablePercent") for tax in settlement.iterfind(f"{RAM}ApplicableTradeTax")]
    assert sorted(rates) == ["20", "5.5"]
    assert settlement.find(f"{RAM}SpecifiedTradeAllowanceCharge") is not None  # the document discount
