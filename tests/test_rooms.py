"""The rooms keep to themselves: what each room may import of another, read from the source
(every import statement, also those inside functions).

- ``slurmrest.wire`` (Slurm's protocol) imports neither the operations nor the web room.
- ``slurmrest.api`` (operations) imports no web room, and of the wire only what a client of
  the protocol needs: the bound client, errors, enums, constants, message types.
- ``slurmrest.web`` (HTTP) imports of the wire only the credentials it authenticates with:
  no tables, framing or client; Slurm's failures reach it as the api's ``ApiError``.
- ``slurmrest.coalesce`` belongs to no room and imports none. The assembly (``tap``,
  ``inet``, ``rpc``) and ``testing`` may import every room; no room imports them.

No room imports another's private names (``_anything``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from twisted.trial import unittest

PACKAGE = Path(__file__).resolve().parent.parent / "slurmrest"

ROOMS = ("slurmrest.wire", "slurmrest.api", "slurmrest.web")
#: Modules outside the rooms that no room may import (they assemble the rooms).
ASSEMBLY = ("slurmrest.tap", "slurmrest.inet", "slurmrest.rpc", "slurmrest.testing")

#: room → the modules of other rooms it may import (a package allows its submodules).
ALLOWED = {
    "slurmrest.wire": ("slurmrest.coalesce",),
    "slurmrest.api": ("slurmrest.coalesce", "slurmrest.wire.client", "slurmrest.wire.errors",
                      "slurmrest.wire.dbd_client", "slurmrest.wire.dbd_msgtypes",
                      "slurmrest.wire.enums", "slurmrest.wire.primitives",
                      "slurmrest.wire.msgtypes", "slurmrest.wire.credentials"),
    "slurmrest.web": ("slurmrest.api", "slurmrest.wire.credentials"),
    "slurmrest.coalesce": (),
}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _room_of(module: str) -> str | None:
    for room in (*ROOMS, "slurmrest.coalesce", *ASSEMBLY):
        if _within(module, room):
            return room
    return None


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def imports(source: str, module: str) -> list[tuple[int, str, str | None]]:
    """Every (line, module, name) that ``module``'s source imports of slurmrest: ``from m
    import n`` of a package yields the submodule ``m.n``."""
    package = module if _is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if _is_package(base) and _room_of(target) and (
                        (PACKAGE.parent / (target.replace(".", "/") + ".py")).exists()
                        or _is_package(target)):
                    found.append((node.lineno, target, None))
                else:
                    found.append((node.lineno, base, alias.name))
    return [(line, name, what) for line, name, what in found if _within(name, "slurmrest")]


def violations(source: str, module: str) -> list[str]:
    """What ``module`` (a module of some room) imports that its room may not."""
    room = _room_of(module)
    if room not in ALLOWED:
        return []  # the assembly and testing may import anything
    out = []
    for line, name, what in imports(source, module):
        other = _room_of(name)
        if other == room or other is None and name == "slurmrest":
            continue  # its own room, or the package's version
        where = f"{module}:{line} imports {name}{'.' + what if what else ''}"
        if not any(_within(name, allowed) for allowed in ALLOWED[room]):
            out.append(where)
        elif what is not None and what.startswith("_"):
            out.append(where + " (a private name)")
    return out


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


class RoomTests(unittest.TestCase):
    def test_no_room_imports_another_rooms_inside(self):
        found = []
        for module, path in modules():
            found += violations(path.read_text(encoding="utf-8"), module)
        self.assertEqual(found, [])

    def test_every_module_is_in_a_room_or_the_assembly(self):
        self.assertEqual([m for m, _ in modules()
                          if m != "slurmrest" and _room_of(m) is None], [])

    def test_the_web_room_needs_nothing_of_the_wire_but_credentials(self):
        wire = {name for module, path in modules() if _within(module, "slurmrest.web")
                for _, name, _ in imports(path.read_text(encoding="utf-8"), module)
                if _within(name, "slurmrest.wire")}
        self.assertEqual(wire, {"slurmrest.wire.credentials"})


class RuleTests(unittest.TestCase):
    """The checker itself finds what it must (else the test above could not fail)."""

    def test_forbidden_imports_are_found(self):
        cases = {
            ("slurmrest.wire.client", "from slurmrest.api import registry"): 1,
            ("slurmrest.wire.client", "def f():\n    import slurmrest.web.gateway"): 1,
            ("slurmrest.api.nodes", "from slurmrest.wire import tables"): 1,
            ("slurmrest.api.nodes", "from slurmrest.wire.protocol import Message"): 1,
            ("slurmrest.api.nodes", "from slurmrest.wire.client import _Shared"): 1,
            ("slurmrest.api.nodes", "from slurmrest.web.errors import failure"): 1,
            ("slurmrest.api.nodes", "from ..web import gateway"): 1,
            ("slurmrest.api.nodes", "from slurmrest import tap"): 1,
            ("slurmrest.web.gateway", "from slurmrest.wire.errors import SlurmError"): 1,
            ("slurmrest.web.gateway", "from slurmrest.wire.tables import v22_05"): 1,
            ("slurmrest.coalesce", "from slurmrest.api import registry"): 1,
            ("slurmrest.api.nodes", "from slurmrest.wire import enums, errors\n"
                                    "from slurmrest.wire.client import SlurmctldClient"): 0,
            ("slurmrest.api.nodes", "from . import convert\nfrom slurmrest.coalesce import x"): 0,
            ("slurmrest.web.gateway", "from slurmrest.api.runner import run\nimport slurmrest"): 0,
            ("slurmrest.tap", "from slurmrest.wire.client import SlurmctldClient"): 0,
        }
        for (module, source), count in cases.items():
            self.assertEqual(len(violations(source, module)), count, (module, source))
