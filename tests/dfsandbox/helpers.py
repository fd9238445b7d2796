"""Small helpers for speaking the API page's format from the tests, independent of the client."""

import xml.etree.ElementTree as ET

from defusedxml.ElementTree import fromstring


def klant_xml(**elements) -> str:
    klant = ET.Element("klant")
    for name, value in elements.items():
        ET.SubElement(klant, name).text = value
    return ET.tostring(klant, encoding="unicode")


def read_klanten(body: str) -> list[dict]:
    root = fromstring(body.encode("utf-8"))
    assert root.tag == "klanten", body[:200]
    return [{child.tag: child.text or "" for child in klant} for klant in root]


def read_klant(body: str) -> dict:
    root = fromstring(body.encode("utf-8"))
    assert root.tag == "klant", body[:200]
    return {child.tag: child.text or "" for child in root}


def post_klant(http, api: str, action: str, timeout: float = 5, **elements):
    return http.post(f"{api}/{action}", data={"xml": klant_xml(**elements)}, timeout=timeout)
