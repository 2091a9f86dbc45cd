"""``yaml.safe_dump(data, default_flow_style=False)`` for JSON-shaped data.

Ray Tune prints "Result for <trial>:" blocks with PyYAML (spec §11.2
``pretty_print``).  tunec does not depend on PyYAML; this module reproduces
PyYAML's output for the values a JSON round trip can produce (dicts with str
keys, lists, str, int, float, bool, None), byte for byte:

* block mappings with keys sorted, nested mappings indented two spaces,
  sequences inside mappings not indented ("indentless"), ``- `` items;
* empty dicts and lists in flow style (``{}``, ``[]``);
* scalars plain when PyYAML would write them plain, otherwise single-quoted
  (strings that would read back as another type, or that start with an
  indicator) or double-quoted with escapes (control and non-ASCII
  characters, since ``allow_unicode`` is off);
* long scalars folded at spaces past column 80, as PyYAML's writers do;
* keys of 123 characters or more (128 with their tag), empty keys and multi-line keys written as
  complex keys (``? key`` / ``: value``).

The emitter keeps PyYAML's cursor state (column, "last write was whitespace",
"last write was indentation") because its line-folding decisions depend on it.
"""
import re

__all__ = ["safe_dump"]

_BEST_WIDTH = 80
_BREAKS = "\n\x85\u2028\u2029"
_SPACE_OR_BREAK = "\0 \t\r\n\x85\u2028\u2029"

# PyYAML's implicit resolvers (resolver.py), keyed by first character: a
# string matching one of them would read back as a non-string, so it must be
# quoted.
_BOOL = re.compile(r"""^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$""", re.X)
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)
_INT = re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""", re.X)
_MERGE = re.compile(r"^(?:<<)$")
_NULL = re.compile(r"""^(?: ~
                    |null|Null|NULL
                    | )$""", re.X)
_TIMESTAMP = re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)
_VALUE = re.compile(r"^(?:=)$")
_YAML = re.compile(r"^(?:!|&|\*)$")
_RESOLVERS = {}
for _regex, _first in ((_BOOL, "yYnNtTfFoO"), (_FLOAT, "-+0123456789."),
                       (_INT, "-+0123456789"), (_MERGE, "<"), (_NULL, "~nN"),
                       (_TIMESTAMP, "0123456789"), (_VALUE, "="), (_YAML, "!&*")):
    for _ch in _first:
        _RESOLVERS.setdefault(_ch, []).append(_regex)
_RESOLVERS[""] = [_NULL]

_ESCAPES = {"\0": "0", "\x07": "a", "\x08": "b", "\x09": "t", "\x0A": "n", "\x0B": "v",
            "\x0C": "f", "\x0D": "r", "\x1B": "e", '"': '"', "\\": "\\", "\x85": "N",
            "\xA0": "_", "\u2028": "L", "\u2029": "P"}


def _reads_as_string(text):
    """True if ``text`` written plain would be read back as a string."""
    return not any(r.match(text) for r in _RESOLVERS.get(text[:1], ()))


class _Analysis:
    """PyYAML's ScalarAnalysis (allow_unicode=False): which styles can hold ``text``."""

    __slots__ = ("empty", "multiline", "allow_block_plain", "allow_single_quoted")

    def __init__(self, text):
        self.empty = not text
        self.multiline = False
        self.allow_block_plain = True
        self.allow_single_quoted = True
        if not text:
            return
        block_indicators = text.startswith("---") or text.startswith("...")
        line_breaks = special = False
        leading = trailing_space = trailing_break = break_space = space_break = False
        preceded_by_ws = True
        followed_by_ws = len(text) == 1 or text[1] in _SPACE_OR_BREAK
        prev_space = prev_break = False
        last = len(text) - 1
        for index, ch in enumerate(text):
            if index == 0:
                if ch in "#,[]{}&*!|>'\"%@`":
                    block_indicators = True
                if ch in "?:" and followed_by_ws:
                    block_indicators = True
                if ch == "-" and followed_by_ws:
                    block_indicators = True
            else:
                if ch == ":" and followed_by_ws:
                    block_indicators = True
                if ch == "#" and preceded_by_ws:
                    block_indicators = True
            if ch in _BREAKS:
                line_breaks = True
            if not (ch == "\n" or "\x20" <= ch <= "\x7E"):
                special = True  # allow_unicode is off: all non-ASCII is special
            if ch == " ":
                leading = leading or index == 0
                trailing_space = trailing_space or index == last
                break_space = break_space or prev_break
                prev_space, prev_break = True, False
            elif ch in _BREAKS:
                leading = leading or index == 0
                trailing_break = trailing_break or index == last
                space_break = space_break or prev_space
                prev_space, prev_break = False, True
            else:
                prev_space = prev_break = False
            preceded_by_ws = ch in _SPACE_OR_BREAK
            followed_by_ws = index + 2 >= len(text) or text[index + 2] in _SPACE_OR_BREAK
        self.multiline = line_breaks
        if leading or trailing_space or trailing_break or line_breaks or block_indicators:
            self.allow_block_plain = False
        if break_space or space_break or special:
            self.allow_block_plain = self.allow_single_quoted = False


class _Emitter:
    def __init__(self):
        self.out = []
        self.indent = None
        self.indents = []
        self.column = 0
        self.whitespace = True
        self.indention = True

    # -- PyYAML's low-level writers -----------------------------------------
    def write(self, data):
        self.column += len(data)
        self.out.append(data)

    def write_indicator(self, indicator, need_whitespace, whitespace=False, indention=False):
        data = indicator if (self.whitespace or not need_whitespace) else " " + indicator
        self.whitespace = whitespace
        self.indention = self.indention and indention
        self.write(data)

    def write_indent(self):
        indent = self.indent or 0
        if (not self.indention or self.column > indent
                or (self.column == indent and not self.whitespace)):
            self.write_line_break()
        if self.column < indent:
            self.whitespace = True
            self.write(" " * (indent - self.column))

    def write_line_break(self, data="\n"):
        self.whitespace = True
        self.indention = True
        self.out.append(data)
        self.column = 0

    def increase_indent(self, flow=False, indentless=False):
        self.indents.append(self.indent)
        if self.indent is None:
            self.indent = 2 if flow else 0
        elif not indentless:
            self.indent += 2

    def _write_breaks(self, text):
        if text[0] == "\n":
            self.write_line_break()
        for br in text:
            self.write_line_break("\n" if br == "\n" else br)
        self.write_indent()

    def write_plain(self, text, split):
        if not text:
            return
        if not self.whitespace:
            self.write(" ")
        self.whitespace = self.indention = False
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column > _BEST_WIDTH and split:
                        self.write_indent()
                        self.whitespace = self.indention = False
                    else:
                        self.write(text[start:end])
                    start = end
            elif breaks:
                if ch is None or ch not in _BREAKS:
                    self._write_breaks(text[start:end])
                    self.whitespace = self.indention = False
                    start = end
            elif ch is None or ch in " " + _BREAKS:
                self.write(text[start:end])
                start = end
            if ch is not None:
                spaces, breaks = ch == " ", ch in _BREAKS
            end += 1

    def write_single_quoted(self, text, split):
        self.write_indicator("'", True)
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch is None or ch != " ":
                    if (start + 1 == end and self.column > _BEST_WIDTH and split
                            and start != 0 and end != len(text)):
                        self.write_indent()
                    else:
                        self.write(text[start:end])
                    start = end
            elif breaks:
                if ch is None or ch not in _BREAKS:
                    self._write_breaks(text[start:end])
                    start = end
            elif ch is None or ch in " " + _BREAKS or ch == "'":
                if start < end:
                    self.write(text[start:end])
                    start = end
            if ch == "'":
                self.write("''")
                start = end + 1
            if ch is not None:
                spaces, breaks = ch == " ", ch in _BREAKS
            end += 1
        self.write_indicator("'", False)

    def write_double_quoted(self, text, split):
        self.write_indicator('"', True)
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if ch is None or ch in '"\\\x85\u2028\u2029\uFEFF' or not ("\x20" <= ch <= "\x7E"):
                if start < end:
                    self.write(text[start:end])
                    start = end
                if ch is not None:
                    if ch in _ESCAPES:
                        data = "\\" + _ESCAPES[ch]
                    elif ch <= "\xFF":
                        data = "\\x%02X" % ord(ch)
                    elif ch <= "\uFFFF":
                        data = "\\u%04X" % ord(ch)
                    else:
                        data = "\\U%08X" % ord(ch)
                    self.write(data)
                    start = end + 1
            if (0 < end < len(text) - 1 and (ch == " " or start >= end)
                    and self.column + (end - start) > _BEST_WIDTH and split):
                data = text[start:end] + "\\"
                if start < end:
                    start = end
                self.write(data)
                self.write_indent()
                self.whitespace = self.indention = False
                if text[start] == " ":
                    self.write("\\")
            end += 1
        self.write_indicator('"', False)

    # -- nodes ---------------------------------------------------------------
    def scalar(self, value, simple_key=False):
        """Writes one scalar; ``simple_key`` is PyYAML's simple_key_context."""
        if value is None:
            text, implicit_plain = "null", True
        elif value is True or value is False:
            text, implicit_plain = ("true" if value else "false"), True
        elif isinstance(value, int):
            text, implicit_plain = str(int(value)), True
        elif isinstance(value, float):
            text, implicit_plain = _float_text(value), True
        else:
            text = str(value)
            implicit_plain = _reads_as_string(text)
        analysis = _Analysis(text)
        self.increase_indent(flow=True)
        split = not simple_key
        if (implicit_plain and not (simple_key and (analysis.empty or analysis.multiline))
                and analysis.allow_block_plain):
            self.write_plain(text, split)
        elif analysis.allow_single_quoted and not (simple_key and analysis.multiline):
            self.write_single_quoted(text, split)
        else:
            self.write_double_quoted(text, split)
        self.indent = self.indents.pop()

    def node(self, value, mapping_context=False):
        if isinstance(value, dict):
            if not value:
                self.write_indicator("{", True, whitespace=True)
                self.write_indicator("}", False)
            else:
                self.block_mapping(value)
        elif isinstance(value, (list, tuple)):
            if not value:
                self.write_indicator("[", True, whitespace=True)
                self.write_indicator("]", False)
            else:
                self.block_sequence(value, mapping_context)
        else:
            self.scalar(value)

    def block_sequence(self, items, mapping_context):
        self.increase_indent(indentless=mapping_context and not self.indention)
        for item in items:
            self.write_indent()
            self.write_indicator("-", True, indention=True)
            self.node(item)
        self.indent = self.indents.pop()

    def block_mapping(self, mapping):
        self.increase_indent()
        for key, value in sorted(mapping.items()):
            self.write_indent()
            text = str(key)
            analysis = _Analysis(text)
            # PyYAML counts the key's tag ("!!str", 5 characters) towards the
            # 128-character limit of a simple key.
            if len(text) + 5 < 128 and not analysis.empty and not analysis.multiline:
                self.scalar(key, simple_key=True)
                self.write_indicator(":", False)
            else:
                self.write_indicator("?", True, indention=True)
                self.scalar(key)
                self.write_indent()
                self.write_indicator(":", True, indention=True)
            self.node(value, mapping_context=True)
        self.indent = self.indents.pop()


def _float_text(value):
    if value != value:
        return ".nan"
    if value == float("inf"):
        return ".inf"
    if value == float("-inf"):
        return "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def safe_dump(data):
    """Returns ``yaml.safe_dump(data, default_flow_style=False)`` for a dict
    whose values are JSON-shaped (dict with str keys, list, str, int, float,
    bool, None)."""
    emitter = _Emitter()
    emitter.node(data)
    emitter.write_indent()  # document end: finish the last line
    return "".join(emitter.out)
