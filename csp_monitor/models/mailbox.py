"""One email address with an optional display name, checked as the message will be built.

People write recipients as they appear in Outlook: ``Smith, John
<john.smith@example.gov.uk>`` or ``Dr. Who <who@example.gov.uk>``. RFC 5322
wants such a display name quoted (a comma separates addresses, a full stop is
"obsolete" syntax), so the standard header parser reads the first as two
addresses and flags the second. We take everything before the last ``<`` as
the display name, quoted or not, and let :class:`email.headerregistry.Address`
quote it when the message is built; the address itself must parse as an
RFC 5322 addr-spec, in ASCII: an international domain name is turned into
its ASCII form (``bücher.example`` -> ``xn--bcher-kva.example``), and a local
part with other letters is refused, as csp-monitor does not use SMTPUTF8. Rule files and the configuration use the same function,
so what ``rules check`` accepts is exactly what ``send`` can deliver to.
"""

from __future__ import annotations

import unicodedata

__all__ = ["parse_mailbox"]

_MAX_LENGTH = 320  # RFC 3696: 64 for the local part, 255 for the domain, plus a little for the name


def _unquote(name: str) -> str:
    """A display name without its surrounding quotes and with ``\\"`` unescaped."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        inner = name[1:-1]
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    return name


def parse_mailbox(value: str) -> tuple[str, str]:
    """``'Name <a@b.org>'`` -> ``('Name', 'a@b.org')``; ValueError in plain English otherwise."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError("an email address must be on one line")
    text = value.strip()
    if not text:
        raise ValueError("an email address must not be empty")
    problem = f"'{text}' is not an email address: write it as name@example.org or 'Full Name <name@example.org>'"
    if len(text) > _MAX_LENGTH or any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text):
        raise ValueError(problem)
    name, addr_spec = "", text
    if text.endswith(">") and "<" in text:
        start = text.rindex("<")
        name, addr_spec = _unquote(text[:start].strip()), text[start + 1:-1].strip()
    # "=?" would start an RFC 2047 encoded word: a mail client would show it decoded, as other text.
    if any(ch in name for ch in "<>") or "=?" in name or any(ch in addr_spec for ch in ' <>,;"\\'):
        raise ValueError(problem)
    local, at, domain = addr_spec.rpartition("@")
    if at and not local.isascii():
        raise ValueError(f"'{text}' has letters outside ASCII before the @, which most mail servers cannot take "
                         "(csp-monitor does not use SMTPUTF8): give the person's ASCII address")
    if at and not domain.isascii():
        # An international domain name goes on the wire in its ASCII form (RFC 5890), which every server takes.
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(problem) from None
        addr_spec = f"{local}@{domain}"
    try:
        address = Address(display_name=name, addr_spec=addr_spec)
    except (ValueError, HeaderParseError, IndexError):  # IndexError: Python's parser on 'name@'
        raise ValueError(problem) from None
    if not address.username or "." not in address.domain or address.domain.startswith(".") \
            or address.domain.endswith(".") or ".." in address.domain:
        raise ValueError(problem)
    return name, address.addr_spec
