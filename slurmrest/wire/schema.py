"""Messages as data: field types, ``Struct`` tables, and the compiler that turns a table into
one specialised packer and one specialised unpacker.

A ``Struct`` is an ordered list of ``(name, type[, default])`` fields. On first use (the
``protocol`` module compiles its tables when it is imported) it is compiled to Python source
(``Struct.source()`` shows it): runs of fixed-size fields become one
``struct.Struct.unpack_from`` / ``pack`` call (a following string's length is read in the
same call), strings and arrays are read inline, nested structs are calls to their own
compiled functions, and a decoded record starts as a copy of an all-None template so NULL
strings cost no store. No Python call per field.

Errors: the compiled unpacker raises ``ProtocolError`` for anything wrong with the input
(truncation, lengths beyond the buffer, lying counts, bad presence bytes, unknown tags),
with the field path in the message, e.g. ``job_info.records[3].nodes: …``. The path costs
nothing on the good path: it is recovered from the line number the exception went through
(each generated line is mapped to the field it reads). The packer raises ``ValueError`` for
unknown keys or values that do not fit their field, with the same kind of path.
"""

import struct as _struct  # the name `struct` is the table language below
from typing import NamedTuple

from slurmrest.wire import primitives
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.primitives import MAX_PACK_MEM_LEN, NO_VAL, Bitmap

__all__ = [
    "ProtocolError", "Field", "FieldType", "Struct", "List", "Counted", "Optional",
    "Tagged", "AbsentIf", "Unsupported", "Bitmap",
    "U8", "BOOL", "U16", "U32", "I32", "U64", "TIME", "DOUBLE", "STR", "STR_ARRAY",
    "U16_ARRAY", "U32_ARRAY", "U64_ARRAY", "MEM", "BITSTR",
    "TYPE_NAMES", "DEFAULT_NAMES", "fields", "struct", "Constant", "Translated", "Sparse",
]

# What a compiled unpacker converts into ProtocolError; anything else is a bug and escapes.
_UNPACK_ERRORS = (_struct.error, IndexError, ValueError, OverflowError, MemoryError,
                  RecursionError, ProtocolError)
# What a compiled packer converts into ValueError.
_PACK_ERRORS = (_struct.error, TypeError, AttributeError, ValueError, OverflowError,
                KeyError)


class Field(NamedTuple):
    name: str
    type: "FieldType"
    default: object


class _Gen:
    """Source being generated for one function: lines, line -> field label, constants."""

    def __init__(self, ns):
        self.lines = []
        self.labels = {}  # index into self.lines -> label
        self.ns = ns
        self.consts = {}
        self.depth = 2
        self.counter = 0

    def var(self, hint="t"):
        self.counter += 1
        return f"{hint}{self.counter}"

    def const(self, obj, hint="_c"):
        """A global name for ``obj`` in the generated code (one name per object)."""
        for k, v in self.consts.items():
            if v is obj:
                return k
        name = f"{hint}_{len(self.consts)}"  # "_x_N" never clashes with the helpers' names
        assert name not in self.ns
        self.consts[name] = self.ns[name] = obj
        return name

    def emit(self, line, label=None):
        if label is not None:
            self.labels[len(self.lines)] = label
        self.lines.append("    " * self.depth + line)

    def indent(self):
        self.depth += 1

    def dedent(self):
        self.depth -= 1


# Labels: ("field", text, index_var_or_None) or ("run", [(name, end_offset), ...]).
def _label(text, index=None):
    return ("field", text, index)


def _label_text(label, frame_locals):
    if label[0] == "run":
        avail = frame_locals.get("end", 0) - frame_locals.get("off", 0)
        for name, end in label[1]:
            if end > avail:
                return name
        return label[1][-1][0]
    _, text, index = label
    if index is not None and index in frame_locals:
        return f"{text}[{frame_locals[index]}]"
    return text


def _reason(exc, error_class):
    if isinstance(exc, ProtocolError):
        return exc.message or "malformed input"
    if error_class is ProtocolError:
        if isinstance(exc, (_struct.error, IndexError)):
            return "truncated input"
        if isinstance(exc, MemoryError):
            return "length too large to allocate"
    return str(exc) or exc.__class__.__name__


def _relocate(exc, struct_name, labels, tb, frame_locals, error_class):
    """Build the error to raise from a compiled function: prepend this level's field."""
    label = labels.get(tb.tb_lineno) if tb is not None else None
    component = _label_text(label, frame_locals) if label else None
    inner = getattr(exc, "_wire_path", None)
    if inner is not None:
        path, reason = inner, exc._wire_reason
    else:
        path, reason = [], _reason(exc, error_class)
    if component:
        path = [component] + path
    where = ".".join([struct_name] + path)
    new = error_class(f"{where}: {reason}")
    new._wire_path = path
    new._wire_reason = reason
    return new


def _fail(message):
    raise ProtocolError(message)


def _len_fail(n, avail):
    if n > MAX_PACK_MEM_LEN:
        raise ProtocolError(f"length {n} exceeds 1 GiB")
    raise ProtocolError(f"length {n} runs past the end of the input ({avail} bytes left)")


def _count_fail(n, size, avail):
    raise ProtocolError(f"count {n} cannot fit: {n} elements of at least {size} bytes, "
                        f"{avail} bytes left")


def _array_reader(cache, fmt_char, n):
    reader = _struct.Struct(">%d%s" % (n, fmt_char)).unpack_from
    if len(cache) < 256:  # bounded: counts come from the wire
        cache[n] = reader
    return reader


def _unknown_keys(keys, known):
    extra = sorted(str(k) for k in keys if k not in known)
    raise ValueError(f"unknown field(s) {', '.join(extra)}")


# Globals of every generated function.
_BASE_NS = {
    "_fail": _fail, "_len_fail": _len_fail, "_count_fail": _count_fail,
    "_unknown_keys": _unknown_keys, "_array_reader": _array_reader, "_relocate": _relocate,
    "ProtocolError": ProtocolError, "_UNPACK_ERRORS": _UNPACK_ERRORS,
    "_PACK_ERRORS": _PACK_ERRORS, "_Bitmap": Bitmap, "_enc": primitives.encode_text,
    "_pack": _struct.pack, "_u32": _struct.Struct(">I").unpack_from,
    "_p32": _struct.Struct(">I").pack, "NO_VAL": NO_VAL,
}


class FieldType:
    """One wire type. Scalars set ``fmt`` (merged into struct runs); others generate code."""

    fmt = None
    size = 0
    min_size = 0
    default = None

    def unpack_code(self, g, target, label, scope):
        raise NotImplementedError

    def pack_code(self, g, src, label, scope):
        raise NotImplementedError


class _Scalar(FieldType):
    def __init__(self, name, fmt, default=0, post=None, pre=None):
        self.name, self.fmt, self.default = name, fmt, default
        self.size = self.min_size = _struct.calcsize(">" + fmt)
        self.post, self.pre = post, pre  # expression templates around the raw value

    def __repr__(self):
        return self.name

    def unpack_code(self, g, target, label, scope):
        s = g.const(_struct.Struct(">" + self.fmt).unpack_from, "_s")
        g.emit(f"{target}, = {s}(buf, off)", label)
        g.emit(f"off += {self.size}")
        if self.post:
            g.emit(f"{target} = {self.post.format(target)}")

    def pack_code(self, g, src, label, scope):
        s = g.const(_struct.Struct(">" + self.fmt).pack, "_S")
        value = self.pre.format(src) if self.pre else src
        g.emit(f"out += {s}({value})", label)


U8 = _Scalar("U8", "B")
BOOL = _Scalar("BOOL", "?", default=False)
U16 = _Scalar("U16", "H")
U32 = _Scalar("U32", "I")
I32 = _Scalar("I32", "i")  # C ints sent through pack32: return codes
U64 = _Scalar("U64", "Q")
TIME = _Scalar("TIME", "q")
DOUBLE = _Scalar("DOUBLE", "d", default=0.0, post="{} / 1000000.0", pre="{} * 1000000.0")


def _emit_str_body(g, n, target, label, null=True):
    """Code reading a packstr payload whose u32 length is already in ``n``.

    ``null=False``: the target already holds None (a fresh record), so NULL costs nothing.
    """
    g.emit(f"if {n}:")
    g.indent()
    g.emit(f"if {n} > end - off: _len_fail({n}, end - off)", label)
    g.emit(f"{target} = buf[off:off + {n} - 1].decode('utf-8', 'surrogateescape')")
    g.emit(f"off += {n}")
    g.dedent()
    if null:
        g.emit("else:")
        g.emit(f"    {target} = None")


def _emit_str_pack(g, src, label):
    g.emit(f"if {src} is None:", label)
    g.emit("    out += b'\\0\\0\\0\\0'")
    g.emit("else:")
    g.indent()
    b = g.var("b")
    g.emit(f"{b} = _enc({src})", label)
    g.emit(f"out += _p32(len({b}) + 1)")
    g.emit(f"out += {b}")
    g.emit("out += b'\\0'")
    g.dedent()


class _Str(FieldType):
    """``packstr``: NULL <-> None, "" <-> u32 1 + NUL; decoded as UTF-8 (surrogateescape)."""

    min_size = 4

    def __repr__(self):
        return "STR"

    def unpack_code(self, g, target, label, scope):
        n = g.var("n")
        g.emit(f"{n}, = _u32(buf, off)", label)
        g.emit("off += 4")
        _emit_str_body(g, n, target, label)

    def pack_code(self, g, src, label, scope):
        _emit_str_pack(g, src, label)


STR = _Str()


class _Mem(FieldType):
    """``packmem``: u32 n + n raw bytes -> bytes."""

    min_size = 4
    default = b""

    def __repr__(self):
        return "MEM"

    def unpack_code(self, g, target, label, scope):
        n = g.var("n")
        g.emit(f"{n}, = _u32(buf, off)", label)
        g.emit("off += 4")
        g.emit(f"if {n} > end - off: _len_fail({n}, end - off)", label)
        g.emit(f"{target} = bytes(buf[off:off + {n}])")
        g.emit(f"off += {n}")

    def pack_code(self, g, src, label, scope):
        b = g.var("b")
        g.emit(f"{b} = bytes({src} or b'')", label)
        g.emit(f"out += _p32(len({b}))")
        g.emit(f"out += {b}")


MEM = _Mem()


class _Bitstr(FieldType):
    """``pack_bit_str_hex``: u32 nbits (NO_VAL = NULL) + str hex mask -> Bitmap or None.

    As in C, a bitmap of 0 bits decodes to None (its "0x0" string is read and dropped).
    """

    min_size = 4

    def __repr__(self):
        return "BITSTR"

    def unpack_code(self, g, target, label, scope):
        nb, n, s = g.var("nb"), g.var("n"), g.var("s")
        g.emit(f"{nb}, = _u32(buf, off)", label)
        g.emit("off += 4")
        g.emit(f"if {nb} == NO_VAL:")
        g.emit(f"    {target} = None")
        g.emit("else:")
        g.indent()
        g.emit(f"{n}, = _u32(buf, off)", label)
        g.emit("off += 4")
        _emit_str_body(g, n, s, label)
        g.emit(f"{target} = _Bitmap({nb}, {s}) if {nb} else None")
        g.dedent()

    def pack_code(self, g, src, label, scope):
        g.emit(f"if {src} is None:", label)
        g.emit(f"    out += _p32(NO_VAL)")
        g.emit("else:")
        g.indent()
        g.emit(f"out += _p32({src}[0])", label)
        _emit_str_pack(g, f"{src}[1]", label)
        g.dedent()


BITSTR = _Bitstr()


class _Array(FieldType):
    """``pack16/32/64_array``: u32 count + elements -> list (count 0 -> [])."""

    min_size = 4
    default = ()

    def __init__(self, name, fmt):
        self.name, self.fmt_char = name, fmt
        self.width = _struct.calcsize(">" + fmt)
        self.readers = {}  # count -> compiled unpack_from (arrays are short and repetitive)

    def __repr__(self):
        return self.name

    def unpack_code(self, g, target, label, scope):
        n = g.var("n")
        g.emit(f"{n}, = _u32(buf, off)", label)
        g.emit("off += 4")
        g.emit(f"if {n}:")
        g.indent()
        g.emit(f"if {n} * {self.width} > end - off: _count_fail({n}, {self.width}, end - off)",
               label)
        cache = g.const(self.readers, "_A")
        g.emit(f"{target} = list(({cache}.get({n}) or _array_reader({cache}, "
               f"'{self.fmt_char}', {n}))(buf, off))")
        g.emit(f"off += {n} * {self.width}")
        g.dedent()
        g.emit("else:")
        g.emit(f"    {target} = []")

    def pack_code(self, g, src, label, scope):
        v = g.var("a")
        g.emit(f"{v} = {src} or ()", label)
        g.emit(f"out += _p32(len({v}))", label)
        g.emit(f"out += _pack('>%d{self.fmt_char}' % len({v}), *{v})", label)


U16_ARRAY = _Array("U16_ARRAY", "H")
U32_ARRAY = _Array("U32_ARRAY", "I")
U64_ARRAY = _Array("U64_ARRAY", "Q")


class _StrArray(FieldType):
    """``packstr_array``: u32 count + count x str -> list of str/None (count 0 -> [])."""

    min_size = 4
    default = ()

    def __repr__(self):
        return "STR_ARRAY"

    def unpack_code(self, g, target, label, scope):
        n, i, s = g.var("n"), g.var("i"), g.var("s")
        g.emit(f"{n}, = _u32(buf, off)", label)
        g.emit("off += 4")
        g.emit(f"if {n} * 4 > end - off: _count_fail({n}, 4, end - off)", label)
        g.emit(f"{target} = []")
        g.emit(f"for {i} in range({n}):")
        g.indent()
        el = _label(label[1], i)
        m = g.var("n")
        g.emit(f"{m}, = _u32(buf, off)", el)
        g.emit("off += 4")
        _emit_str_body(g, m, s, el)
        g.emit(f"{target}.append({s})")
        g.dedent()

    def pack_code(self, g, src, label, scope):
        v, i, s = g.var("a"), g.var("i"), g.var("s")
        g.emit(f"{v} = {src} or ()", label)
        g.emit(f"out += _p32(len({v}))", label)
        g.emit(f"for {i}, {s} in enumerate({v}):")
        g.indent()
        _emit_str_pack(g, s, _label(label[1], i))
        g.dedent()


STR_ARRAY = _StrArray()


def _element_unpack(g, element, target, label, scope):
    if isinstance(element, Struct):
        f = g.const(element._unpacker(), "_f")
        g.emit(f"{target}, off = {f}(buf, off, end)", label)
    else:
        element.unpack_code(g, target, label, scope)


def _elements_unpack(g, element, n, target, label, scope):
    """``n`` elements into the list ``target``; a count that cannot fit in what is left of
    the input is refused before anything is allocated for it."""
    i, e = g.var("i"), g.var("e")
    size = max(1, element.min_size)
    g.emit(f"if {n} * {size} > end - off: _count_fail({n}, {size}, end - off)", label)
    g.emit(f"{target} = []")
    g.emit(f"for {i} in range({n}):")
    g.indent()
    _element_unpack(g, element, e, _label(label[1], i), scope)
    g.emit(f"{target}.append({e})")
    g.dedent()


def _element_pack(g, element, src, label, scope):
    if isinstance(element, Struct):
        f = g.const(element._packer(), "_p")
        g.emit(f"{f}({src}, out)", label)
    else:
        element.pack_code(g, src, label, scope)


class List(FieldType):
    """A count-prefixed repeat (``slurm_pack_list`` and friends).

    ``count`` is the count's type (U32, or U16 for het job lists); ``null`` is the count
    value that means "no list" (NO_VAL for slurm_pack_list), decoded to None.
    """

    def __init__(self, element, count=U32, null=NO_VAL):
        self.element, self.count, self.null = element, count, null
        self.min_size = count.size
        self.default = None if null is not None else ()

    def __repr__(self):
        return f"List({self.element!r})"

    def unpack_code(self, g, target, label, scope):
        n = g.var("n")
        s = g.const(_struct.Struct(">" + self.count.fmt).unpack_from, "_s")
        g.emit(f"{n}, = {s}(buf, off)", label)
        g.emit(f"off += {self.count.size}")
        if self.null is not None:
            g.emit(f"if {n} == {self.null}:")
            g.emit(f"    {target} = None")
            g.emit("else:")
            g.indent()
        _elements_unpack(g, self.element, n, target, label, scope)
        if self.null is not None:
            g.dedent()

    def pack_code(self, g, src, label, scope):
        s = g.const(_struct.Struct(">" + self.count.fmt).pack, "_S")
        i, e = g.var("i"), g.var("e")
        if self.null is not None:
            g.emit(f"if {src} is None:", label)
            g.emit(f"    out += {s}({self.null})")
            g.emit("else:")
        else:
            g.emit(f"if {src} is None: {src} = ()", label)
            g.emit("if True:")
        g.indent()
        g.emit(f"out += {s}(len({src}))", label)
        g.emit(f"for {i}, {e} in enumerate({src}):")
        g.indent()
        _element_pack(g, self.element, e, _label(label[1], i), scope)
        g.dedent()
        g.dedent()


class Counted(FieldType):
    """Elements whose count is an earlier field of the same struct (``record_count``).

    When packing, a missing count field is filled with the list's length.
    """

    default = ()

    def __init__(self, element, count_field):
        self.element, self.count_field = element, count_field

    def __repr__(self):
        return f"Counted({self.element!r}, {self.count_field!r})"

    def unpack_code(self, g, target, label, scope):
        _elements_unpack(g, self.element, scope[self.count_field], target, label, scope)

    def pack_code(self, g, src, label, scope):
        n = scope[self.count_field]
        i, e = g.var("i"), g.var("e")
        g.emit(f"if {src} is None: {src} = ()", label)
        g.emit(f"if len({src}) != {n}: raise ValueError("
               f"'%d elements but {self.count_field} is %d' % (len({src}), {n}))", label)
        g.emit(f"for {i}, {e} in enumerate({src}):")
        g.indent()
        _element_pack(g, self.element, e, _label(label[1], i), scope)
        g.dedent()


class Sparse(Counted):
    """``Counted`` records of which those at the positions set in an earlier bitmap field
    (``hidden_field``) are not on the wire (24.11's node_info: nodes hidden from the
    caller). Each left-out position decodes to a blank record (the element packed from
    its defaults, its name None), as 22.05 sent them; packing sends every record."""

    def __init__(self, element, count_field, hidden_field):
        super().__init__(element, count_field)
        self.hidden_field = hidden_field
        self._blank = None

    def __repr__(self):
        return f"Sparse({self.element!r}, {self.count_field!r}, {self.hidden_field!r})"

    def _read(self, buf, off, end, count, hidden):
        unpack = self.element._unpacker()
        left_out = frozenset(hidden.indexes()) if hidden is not None else frozenset()
        if self._blank is None:
            self._blank = self.element.unpack(self.element.pack({}))[0]
        records = []
        for i in range(count):
            if i in left_out:
                records.append(dict(self._blank))
                continue
            record, off = unpack(buf, off, end)
            records.append(record)
        return records, off

    def unpack_code(self, g, target, label, scope):
        read = g.const(self._read, "_sparse")
        g.emit(f"{target}, off = {read}(buf, off, end, {scope[self.count_field]}, "
               f"{scope[self.hidden_field]})", label)


class Optional(FieldType):
    """A struct behind a presence flag (multi_core_data: u8 0 / 0xff; cron_entry: u8 set).

    ``present=None`` means any non-zero flag is "present" (packed as 1). Any flag value
    other than ``absent``/``present`` is a ProtocolError. Decodes to the struct's dict or
    None. With ``flatten=True`` the struct's fields go into the enclosing record instead
    (None when absent) and the flag is kept under the field's own name (stats'
    ``parts_packed``). ``otherwise`` (flattened only): the fields on the wire instead when
    the flag says absent (24.11's job details: a few counts when there are no details).
    """

    def __init__(self, struct_, flag=U8, present=0xFF, absent=0, flatten=False,
                 otherwise=None):
        self.struct, self.flag, self.present, self.absent = struct_, flag, present, absent
        self.flatten = flatten
        if otherwise is not None and not flatten:
            raise TypeError("Optional: otherwise needs flatten=True")
        self.otherwise = otherwise
        self.min_size = flag.size
        self.default = absent if flatten else None

    def __repr__(self):
        return f"Optional({self.struct.name})"

    def _flag_test(self, v):
        return f"{v} != {self.absent}" if self.present is None else f"{v} == {self.present}"

    def _read_flag(self, g, v, label):
        s = g.const(_struct.Struct(">" + self.flag.fmt).unpack_from, "_s")
        g.emit(f"{v}, = {s}(buf, off)", label)
        g.emit(f"off += {self.flag.size}")

    def unpack_code(self, g, target, label, scope):
        fl = g.var("fl")
        self._read_flag(g, fl, label)
        g.emit(f"if {self._flag_test(fl)}:")
        g.indent()
        _element_unpack(g, self.struct, target, label, scope)
        g.dedent()
        g.emit(f"elif {fl} == {self.absent}:")
        g.emit(f"    {target} = None")
        g.emit("else:")
        g.emit(f"    _fail('bad presence flag %d' % {fl})", label)

    def pack_code(self, g, src, label, scope):
        s = g.const(_struct.Struct(">" + self.flag.fmt).pack, "_S")
        present = 1 if self.present is None else self.present
        g.emit(f"if {src} is None:", label)
        g.emit(f"    out += {s}({self.absent})")
        g.emit("else:")
        g.indent()
        g.emit(f"out += {s}({present})")
        _element_pack(g, self.struct, src, label, scope)
        g.dedent()


class Tagged(FieldType):
    """A u32 tag selecting the body that follows (select plugin id + per-plugin data).

    Decodes to the variant's dict with the tag added under ``tag_name``; an unknown tag is a
    ProtocolError (there is no length to skip it by).
    """

    def __init__(self, tag_name, variants, tag=U32, default=None):
        self.tag_name, self.variants, self.tag = tag_name, dict(variants), tag
        self.min_size = tag.size
        self.default = default

    def __repr__(self):
        return f"Tagged({self.tag_name!r})"

    def unpack_code(self, g, target, label, scope):
        t, f = g.var("tag"), g.var("f")
        s = g.const(_struct.Struct(">" + self.tag.fmt).unpack_from, "_s")
        table = g.const({k: v._unpacker() for k, v in self.variants.items()}, "_T")
        g.emit(f"{t}, = {s}(buf, off)", label)
        g.emit(f"off += {self.tag.size}")
        g.emit(f"{f} = {table}.get({t})")
        g.emit(f"if {f} is None: _fail('unsupported {self.tag_name} %d' % {t})", label)
        g.emit(f"{target}, off = {f}(buf, off, end)", label)
        g.emit(f"{target}[{self.tag_name!r}] = {t}")

    def pack_code(self, g, src, label, scope):
        t, rest = g.var("tag"), g.var("r")
        s = g.const(_struct.Struct(">" + self.tag.fmt).pack, "_S")
        table = g.const({k: v._packer() for k, v in self.variants.items()}, "_T")
        g.emit(f"{t} = {src}[{self.tag_name!r}]", label)
        g.emit(f"if {t} not in {table}: raise ValueError('unsupported {self.tag_name} %r' "
               f"% ({t},))", label)
        g.emit(f"out += {s}({t})", label)
        g.emit(f"{rest} = {{k: x for k, x in {src}.items() if k != {self.tag_name!r}}}")
        g.emit(f"{table}[{t}]({rest}, out)", label)


class AbsentIf(FieldType):
    """A struct that is absent when its first u32 equals ``sentinel`` (job_resources:
    ``nhosts == NO_VAL``); then only that u32 is on the wire. Decodes to dict or None."""

    def __init__(self, struct_, sentinel=NO_VAL):
        if not struct_.fields or struct_.fields[0].type is not U32:
            raise TypeError("AbsentIf needs a struct whose first field is a U32")
        self.struct, self.sentinel = struct_, sentinel
        self.min_size = 4

    def __repr__(self):
        return f"AbsentIf({self.struct.name})"

    def unpack_code(self, g, target, label, scope):
        g.emit(f"if _u32(buf, off)[0] == {self.sentinel}:", label)
        g.emit("    off += 4")
        g.emit(f"    {target} = None")
        g.emit("else:")
        g.indent()
        _element_unpack(g, self.struct, target, label, scope)
        g.dedent()

    def pack_code(self, g, src, label, scope):
        first = self.struct.fields[0].name
        g.emit(f"if {src} is None:", label)
        g.emit(f"    out += _p32({self.sentinel})")
        g.emit("else:")
        g.indent()
        g.emit(f"if {src}.get({first!r}) == {self.sentinel}: raise ValueError("
               f"'{first} may not be the absence marker')", label)
        _element_pack(g, self.struct, src, label, scope)
        g.dedent()


class Constant(FieldType):
    """A field a release no longer sends: nothing on the wire, decodes as ``value`` (what
    the older release sent in the case the product uses), packs nothing."""

    min_size = 0

    def __init__(self, value):
        self.value = value
        self.default = value

    def __repr__(self):
        return f"Constant({self.value!r})"

    def unpack_code(self, g, target, label, scope):
        g.emit(f"{target} = {_literal(g, self.value)}")

    def pack_code(self, g, src, label, scope):
        g.emit("pass")


class Translated(FieldType):
    """A scalar whose numbers a release moved: decoded through ``mapping`` (its number ->
    the product's one; numbers not in it stay), packed through the inverse."""

    def __init__(self, scalar, mapping):
        self.scalar, self.mapping = scalar, dict(mapping)
        self.inverse = {v: k for k, v in self.mapping.items()}
        self.min_size = scalar.size
        self.default = scalar.default

    def __repr__(self):
        return f"Translated({self.scalar.name})"

    def unpack_code(self, g, target, label, scope):
        s = g.const(_struct.Struct(">" + self.scalar.fmt).unpack_from, "_s")
        m = g.const(self.mapping, "_m")
        v = g.var("v")
        g.emit(f"{v}, = {s}(buf, off)", label)
        g.emit(f"off += {self.scalar.size}")
        g.emit(f"{target} = {m}.get({v}, {v})")

    def pack_code(self, g, src, label, scope):
        s = g.const(_struct.Struct(">" + self.scalar.fmt).pack, "_S")
        m = g.const(self.inverse, "_m")
        g.emit(f"out += {s}({m}.get({src}, {src}))", label)


class Unsupported(FieldType):
    """A part of a message this codec does not describe (e.g. federation cluster records)."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "Unsupported"

    def unpack_code(self, g, target, label, scope):
        g.emit(f"_fail({self.reason!r})", label)
        g.emit(f"{target} = None")

    def pack_code(self, g, src, label, scope):
        g.emit(f"if {src} is not None: raise ValueError({self.reason!r})", label)


class Struct(FieldType):
    """An ordered list of fields; ``pack(record) -> bytes``, ``unpack(buf, off) -> (dict, off)``.

    Fields are ``(name, type)`` or ``(name, type, default)``; a missing key takes the
    default (the type's default: 0, None, empty list). ``prepare(record) -> record`` runs
    before packing (job_desc's USE_DEFAULT_* bits).
    """

    default = None

    def __init__(self, name, fields, prepare=None):
        self.name = name
        self.fields = []
        for spec in fields:
            fname, ftype = spec[0], spec[1]
            default = spec[2] if len(spec) > 2 else ftype.default
            self.fields.append(Field(fname, ftype, default))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise TypeError(f"{name}: duplicate field names")
        self.prepare = prepare
        self.min_size = sum(f.type.min_size for f in self.fields)
        self._unpack_fn = self._pack_fn = None
        self._sources = {}

    def __repr__(self):
        return f"Struct({self.name!r})"

    @property
    def field_names(self):
        return [f.name for f in self.fields]

    def output_names(self):
        """Keys of a decoded record (flattened optionals contribute their fields)."""
        out = []
        for f in self.fields:
            out.append(f.name)
            if isinstance(f.type, Optional) and f.type.flatten:
                out.extend(f.type.struct.output_names())
                if f.type.otherwise is not None:
                    out.extend(f.type.otherwise.output_names())
        return list(dict.fromkeys(out))

    def defaults(self):
        """The record ``pack`` uses for an empty input (before ``prepare``)."""
        out = {}
        for f in self.fields:
            out[f.name] = f.default
            if isinstance(f.type, Optional) and f.type.flatten:
                if f.type.otherwise is not None:
                    out.update(f.type.otherwise.defaults())
                out.update(f.type.struct.defaults())
        return out

    def replace(self, name=None, drop=(), insert=(), change=(), prepare=...):
        """A derived table (for another protocol version): ``drop`` field names,
        ``insert`` ``(after_name, field_spec)`` pairs, ``change`` ``(name, field_spec)``."""
        changes = dict(change)
        after = {}
        for anchor, spec in insert:
            after.setdefault(anchor, []).append(spec)
        specs = []
        for f in self.fields:
            if f.name in drop:
                continue
            specs.append(changes.get(f.name, (f.name, f.type, f.default)))
            specs.extend(after.get(f.name, ()))
        return Struct(name or self.name, specs,
                      self.prepare if prepare is ... else prepare)

    # -- public codec ------------------------------------------------------------------

    def unpack(self, buf, offset=0):
        if not isinstance(buf, bytes):
            buf = bytes(buf)
        if offset < 0 or offset > len(buf):
            raise ProtocolError(f"{self.name}: offset {offset} outside the input")
        return self._unpacker()(buf, offset, len(buf))

    def pack(self, record):
        if record is None:
            record = {}
        out = bytearray()
        self._packer()(record, out)
        return bytes(out)

    def unpack_exact(self, buf):
        """Decode all of ``buf``; leftover bytes are a ProtocolError."""
        record, off = self.unpack(buf)
        if off != len(buf):
            raise ProtocolError(f"{self.name}: {len(buf) - off} bytes left over after the "
                                f"body")
        return record

    def source(self, kind="unpack"):
        """The generated Python source (``unpack`` or ``pack``), for reading and debugging."""
        self._unpacker() if kind == "unpack" else self._packer()
        return self._sources[kind]

    # -- compiler ----------------------------------------------------------------------

    def _unpacker(self):
        if self._unpack_fn is None:
            self._unpack_fn = self._compile_unpack()
        return self._unpack_fn

    def _packer(self):
        if self._pack_fn is None:
            self._pack_fn = self._compile_pack()
        return self._pack_fn

    def _finish(self, g, kind, head, tail, handler):
        fname = f"_{kind}_{self.name}"
        header = [f"def {fname}({head}):", "    try:"]
        body = g.lines or ["        pass"]
        lines = header + body + tail + handler
        src = "\n".join(lines) + "\n"
        # Line numbers are 1-based; body line i sits at len(header) + i + 1.
        labels = {len(header) + i + 1: lab for i, lab in g.labels.items()}
        g.ns["_LABELS"] = labels
        g.ns["_NAME"] = self.name
        code = compile(src, f"<slurmrest.wire.schema {kind} {self.name}>", "exec")
        exec(code, g.ns)
        self._sources[kind] = src
        return g.ns[fname]

    def _compile_unpack(self):
        g = _Gen(dict(_BASE_NS))
        # Records start as a copy of an all-None template (a memcpy), then each field is
        # stored into it: about twice as fast as a dict display of 125 entries, and NULL
        # strings need no store at all.
        template = g.const(dict.fromkeys(self.output_names()), "_R")
        g.emit(f"d = {template}.copy()")
        _compile_unpack_fields(g, self.fields, {})
        tail = ["        return d, off"]
        handler = [
            "    except _UNPACK_ERRORS as e:",
            "        raise _relocate(e, _NAME, _LABELS, e.__traceback__, locals(), "
            "ProtocolError) from None",
        ]
        return self._finish(g, "unpack", "buf, off, end", tail, handler)

    def _compile_pack(self):
        g = _Gen(dict(_BASE_NS))
        g.emit("if rec is None: rec = {}")
        if self.prepare is not None:
            g.emit(f"rec = {g.const(self.prepare, '_prep')}(rec)")
        known = g.const(frozenset(self.output_names()), "_K")
        g.emit(f"if not {known}.issuperset(rec): _unknown_keys(rec, {known})")
        g.emit("get = rec.get")
        _compile_pack_fields(g, self.fields, {})
        handler = [
            "    except _PACK_ERRORS as e:",
            "        raise _relocate(e, _NAME, _LABELS, e.__traceback__, locals(), "
            "ValueError) from None",
        ]
        return self._finish(g, "pack", "rec, out", [], handler)


def _runs(fields):
    """Split fields into runs of fixed-size scalars and single variable fields."""
    run = []
    for f in fields:
        if f.type.fmt is not None:
            run.append(f)
            continue
        if run:
            yield "run", run
            run = []
        yield "one", f
    if run:
        yield "run", run


def _compile_unpack_fields(g, fields, scope):
    """Code storing each field into the record ``d``; ``scope`` maps a field name to the
    expression reading it back (Counted needs its count)."""
    items = list(_runs(fields))
    merged = set()  # STR fields whose length prefix was read with the preceding run
    for pos, (kind, item) in enumerate(items):
        if kind == "run":
            targets = [f"d[{f.name!r}]" for f in item]
            for f, t in zip(item, targets):
                scope[f.name] = t
            fmt = ">" + "".join(f.type.fmt for f in item)
            ends, size = [], 0
            for f in item:
                size += f.type.size
                ends.append((f.name, size))
            follower = items[pos + 1][1] if pos + 1 < len(items) else None
            length = None
            if follower is not None and follower.type is STR:
                # Read the next string's u32 length in the same unpack_from call.
                length = g.var("n")
                targets.append(length)
                fmt += "I"
                size += 4
                ends.append((follower.name, size))
                merged.add(follower.name)
            s = g.const(_struct.Struct(fmt).unpack_from, "_s")
            lhs = ", ".join(targets) + ("," if len(targets) == 1 else "")
            g.emit(f"{lhs} = {s}(buf, off)", ("run", ends))
            g.emit(f"off += {size}")
            for f, t in zip(item, targets):
                if f.type.post:
                    g.emit(f"{t} = {f.type.post.format(t)}")
            if length is not None:
                _emit_str_body(g, length, f"d[{follower.name!r}]", _label(follower.name),
                               null=False)
            continue
        f = item
        target = f"d[{f.name!r}]"
        scope[f.name] = target
        if f.name in merged:
            continue
        if f.type is STR:
            n = g.var("n")
            g.emit(f"{n}, = _u32(buf, off)", _label(f.name))
            g.emit("off += 4")
            _emit_str_body(g, n, target, _label(f.name), null=False)
            continue
        if isinstance(f.type, Optional) and f.type.flatten:
            opt = f.type
            fl = g.var("fl")
            opt._read_flag(g, fl, _label(f.name))
            g.emit(f"{target} = {fl}")
            g.emit(f"if {opt._flag_test(fl)}:")
            g.indent()
            _compile_unpack_fields(g, opt.struct.fields, scope)
            g.emit("pass")
            g.dedent()
            if opt.otherwise is not None:
                g.emit(f"elif {fl} == {opt.absent}:")
                g.indent()
                _compile_unpack_fields(g, opt.otherwise.fields, scope)
                g.emit("pass")
                g.dedent()
                g.emit("else:")
                g.emit(f"    _fail('bad presence flag %d' % {fl})", _label(f.name))
                continue
            g.emit(f"elif {fl} != {opt.absent}:")  # absent: the fields stay None
            g.emit(f"    _fail('bad presence flag %d' % {fl})", _label(f.name))
            continue
        v = g.var("v")
        _element_unpack(g, f.type, v, _label(f.name), scope)
        g.emit(f"{target} = {v}")


def _counts(fields):
    return {f.type.count_field: f.name for f in fields if isinstance(f.type, Counted)}


def _literal(g, value):
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return g.const(value, "_d")


def _compile_pack_fields(g, fields, scope):
    counted = _counts(fields)
    for kind, item in _runs(fields):
        group = item if kind == "run" else [item]
        names = []
        for f in group:
            v = g.var("v")
            scope[f.name] = v
            names.append(v)
            if f.name in counted:
                g.emit(f"{v} = get({f.name!r})", _label(f.name))
                g.emit(f"if {v} is None: {v} = len(get({counted[f.name]!r}) or ())")
            else:
                g.emit(f"{v} = get({f.name!r}, {_literal(g, f.default)})", _label(f.name))
        if kind == "run":
            if len(group) == 1:
                group[0].type.pack_code(g, names[0], _label(group[0].name), scope)
                continue
            fmt = ">" + "".join(f.type.fmt for f in group)
            s = g.const(_struct.Struct(fmt).pack, "_S")
            args = ", ".join(f.type.pre.format(v) if f.type.pre else v
                             for f, v in zip(group, names))
            ends, pos = [], 0
            for f in group:
                pos += f.type.size
                ends.append((f.name, pos))
            # A failing multi-value pack names its first field; good enough for a bug report.
            g.emit(f"out += {s}({args})", _label("/".join(f.name for f in group)))
            continue
        f, v = group[0], names[0]
        if isinstance(f.type, Optional) and f.type.flatten:
            opt = f.type
            s = g.const(_struct.Struct(">" + opt.flag.fmt).pack, "_S")
            g.emit(f"out += {s}({v})", _label(f.name))
            g.emit(f"if {opt._flag_test(v)}:")
            g.indent()
            _compile_pack_fields(g, opt.struct.fields, scope)
            g.emit("pass")
            g.dedent()
            if opt.otherwise is not None:
                g.emit(f"elif {v} == {opt.absent}:")
                g.indent()
                _compile_pack_fields(g, opt.otherwise.fields, scope)
                g.emit("pass")
                g.dedent()
            g.emit(f"elif {v} != {opt.absent}: raise ValueError('bad presence flag %r' % "
                   f"({v},))", _label(f.name))
            continue
        _element_pack(g, f.type, v, _label(f.name), scope)


# -- the table language: one ``name type [default]`` line per field ----------------------------

#: The primitive type names a table line may use; composite ones are passed by name.
TYPE_NAMES = {
    "u8": U8, "bool": BOOL, "u16": U16, "u32": U32, "i32": I32, "u64": U64, "time": TIME,
    "double": DOUBLE, "str": STR, "str[]": STR_ARRAY, "u16[]": U16_ARRAY,
    "u32[]": U32_ARRAY, "u64[]": U64_ARRAY, "mem": MEM, "bitstr": BITSTR,
}
#: The default names a table line may use (``slurm_init_*``'s special values); else a number.
DEFAULT_NAMES = {
    "NO_VAL": primitives.NO_VAL, "NO_VAL8": primitives.NO_VAL8,
    "NO_VAL16": primitives.NO_VAL16, "NO_VAL64": primitives.NO_VAL64,
    "INFINITE": primitives.INFINITE, "NULL": None,
}


def fields(spec, **composites):
    """Parse ``name type [default]`` lines (``#`` starts a comment) into field specs;
    ``composites`` names the non-primitive types a line may use."""
    out = []
    for line in spec.strip().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        name, tname = parts[0], parts[1]
        ftype = TYPE_NAMES[tname] if tname in TYPE_NAMES else composites[tname]
        if len(parts) > 2:
            text = parts[2]
            if text in DEFAULT_NAMES:
                default = DEFAULT_NAMES[text]
            elif "." in text:
                default = float(text)
            else:
                default = int(text, 0)
            out.append((name, ftype, default))
        else:
            out.append((name, ftype))
    return out


def struct(name, spec, prepare=None, **composites):
    """A ``Struct`` written in the table language (see ``fields``)."""
    return Struct(name, fields(spec, **composites), prepare)
