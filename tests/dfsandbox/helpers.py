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


def element_value(element) -> str | dict:
    """An element's stripped text, or for a nested one a dict of its children's texts."""
    if len(element):
        return {child.tag: (child.text or "").strip() for child in element}
    return (element.text or "").strip()


def parse_klanten(content: bytes) -> list[dict]:
    """A `<klanten>` answer in any document reading (bytes: the declaration names the
    encoding), nested elements as dicts, values stripped."""
    root = fromstring(content)
    assert root.tag == "klanten", content[:200]
    return [{child.tag: element_value(child) for child in klant} for klant in root]


def parse_klant(content: bytes) -> dict:
    root = fromstring(content)
    assert root.tag == "klant", content[:200]
    return {child.tag: element_value(child) for child in root}


def nested_xml(**elements) -> str:
    """Like klant_xml, but a dict value becomes a nested element."""
    klant = ET.Element("klant")
    for name, value in elements.items():
        child = ET.SubElement(klant, name)
        if isinstance(value, dict):
            for child_name, text in value.items():
                ET.SubElement(child, child_name).text = text
        else:
            child.text = value
    return ET.tostring(klant, encoding="unicode")


def post_nested(http, api: str, action: str, **elements):
    return http.post(f"{api}/{action}", data={"xml": nested_xml(**elements)}, timeout=5)
