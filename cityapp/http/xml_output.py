"""Well-formed XML out, whatever was stored: characters XML 1.0 cannot hold are dropped."""

from __future__ import annotations

import re
from typing import Any

# --- XML -----------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all, not even escaped: C0 controls but tab, newline and
# carriage return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML cannot hold (rows stored before input was checked
    may still contain them)."""
    return _NOT_XML_RE.sub("", value)


def xml_bytes(root: Any) -> bytes:
    """Serialise an ElementTree element as UTF-8 with a declaration, always well-formed: every
    text, tail and attribute value goes through xml_text first."""
    from xml.etree import ElementTree as ET

    for element in root.iter():
        if isinstance(element.text, str):
            element.text = xml_text(element.text)
        if isinstance(element.tail, str):
            element.tail = xml_text(element.tail)
        for name, value in list(element.attrib.items()):
            element.attrib[name] = xml_text(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
