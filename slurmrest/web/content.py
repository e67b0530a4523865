"""Content negotiation and the two document formats: JSON (the default) and YAML.

Serialising is the costly step of a big response, so it happens once per response, here.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

JSON = "application/json"
YAML_TYPE = "application/x-yaml"

#: Accepted spellings of each format, in the order we prefer them.
_FORMATS = {
    "application/json": JSON,
    "application/x-yaml": YAML_TYPE,
    "application/yaml": YAML_TYPE,
    "text/yaml": YAML_TYPE,
    "text/x-yaml": YAML_TYPE,
}


class NotAcceptable(Exception):
    """No format the client accepts can be produced."""


class UnsupportedMediaType(Exception):
    """The request body is in a format we do not read."""


class BadDocument(Exception):
    """The request body does not parse."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    q: float


def parse_accept(header: str) -> list[MediaRange]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 1.0  # a weight that does not parse is no weight (not "refuse it")
                if q != q:  # nan
                    q = 1.0
        ranges.append(MediaRange(fields[0].lower(), q))
    return ranges


def negotiate(accept: str | None, default: str = JSON) -> str:
    """The media type to answer with (``JSON`` or ``YAML_TYPE``), or ``NotAcceptable``."""
    if accept is None or not accept.strip():
        return default
    best, best_q = None, 0.0
    for r in parse_accept(accept):
        if r.q <= 0:
            continue
        if r.type in _FORMATS:
            chosen = _FORMATS[r.type]
        elif r.type in ("*/*", "application/*", "*"):
            chosen = default
        elif r.type == "text/*":
            chosen = YAML_TYPE
        else:
            continue
        if r.q > best_q:
            best, best_q = chosen, r.q
    if best is None:
        raise NotAcceptable(accept)
    return best


def body_format(content_type: str | None) -> str:
    """The format of a request body from its ``Content-Type`` (JSON when none is given)."""
    if content_type is None or not content_type.strip():
        return JSON
    kind = content_type.split(";")[0].strip().lower()
    if kind in _FORMATS:
        return _FORMATS[kind]
    raise UnsupportedMediaType(kind)


def _yaml(kind: str) -> YAML:
    y = YAML(typ=kind, pure=True)
    y.default_flow_style = False
    y.allow_unicode = True
    y.representer.sort_base_mapping_type_on_output = False  # keep the document's key order
    return y


_YAML_OUT = _yaml("safe")
#: One encoder for every answer (``json.dumps`` with options builds a new one per call).
_JSON_OUT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(document, media: str) -> bytes:
    if media == YAML_TYPE:
        out = io.StringIO()
        _YAML_OUT.dump(document, out)
        return out.getvalue().encode("utf-8")
    text = _JSON_OUT.encode(document)
    try:
        # Strings Slurm sent as non-UTF-8 bytes were decoded with surrogateescape: give
        # the bytes back as they were.
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate of another origin: escape it as \uXXXX
        return json.dumps(document, separators=(",", ":")).encode("ascii")


def _item(document, media: str) -> bytes:
    """One list item as it reads inside a document's last list (``encode_with_items``)."""
    if media == YAML_TYPE:
        return encode([document], media)  # "- key: value\n  ..." at the top level's indent
    # A lone surrogate raises here: the whole document then takes ``encode``'s other path.
    return _JSON_OUT.encode(document).encode("utf-8", "surrogateescape")


def encode_with_items(document: dict, key: str, caches: list, media: str) -> bytes:
    """``encode(document, media)`` byte for byte, where ``document[key]`` is its last
    entry, a list, and ``caches[i]`` a dict kept with item ``i``: each item is serialised
    once per media type into its dict, and the list is spliced from those pieces."""
    items = document[key]
    try:
        pieces = []
        for item, cache in zip(items, caches):
            piece = cache.get(media)
            if piece is None:
                piece = cache[media] = _item(item, media)
            pieces.append(piece)
    except UnicodeEncodeError:
        return encode(document, media)
    shell = encode({**document, key: []}, media)
    if not pieces:
        return shell
    if media == YAML_TYPE:  # ends "key: []\n": the items follow "key:\n" instead
        return b"".join((shell[:-4], b"\n", *pieces))
    return b"".join((shell[:-2], b",".join(pieces), b"]}"))  # ends "key":[]}


#: Deepest flow nesting ([ and {) a YAML body may have, found before parsing: the pure-Python
#: parser spends seconds of the one event loop on thousands of nested brackets.
MAX_YAML_NESTING = 64
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")


def flow_nesting(data: bytes, limit: int) -> int:
    """How deep ``[``/``{`` nest in ``data`` (quoted ones counted too), stopping past
    ``limit``; cheap when there are few brackets (the usual body)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return 0
    depth = deepest = 0
    for c in _NOT_BRACKETS.sub(b"", data):
        if c in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif depth:
            depth -= 1
    return deepest


def decode(data: bytes, media: str):
    """Parse a request body; ``BadDocument`` when it does not parse. Empty means ``None``."""
    if not data.strip():
        return None
    if media == YAML_TYPE and flow_nesting(data, MAX_YAML_NESTING) > MAX_YAML_NESTING:
        raise BadDocument(f"nested deeper than {MAX_YAML_NESTING} levels")
    try:
        text = data.decode("utf-8")
        if media == YAML_TYPE:
            # The safe loader builds only plain data: no tags that construct objects.
            return _yaml("safe").load(text)
        return json.loads(text)
    except (UnicodeDecodeError, ValueError, YAMLError, RecursionError) as e:
        raise BadDocument(type(e).__name__) from None
