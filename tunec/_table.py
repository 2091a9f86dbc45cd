"""A tabulate-compatible table formatter for the progress report (spec §12).

Ray Tune renders its status tables with ``tabulate(rows, headers=...,
tablefmt="psql" | "html", showindex=False)`` and default options.  tunec does
not depend on tabulate, so this module reproduces exactly that call, byte for
byte, for the tables tunec prints.  It follows tabulate 0.9/0.10:

* column type: the least generic of bool < int < float < bytes < str over the
  column, where ``None`` and ``""`` count as missing and strings that parse as
  numbers count as numbers (tabulate's ``numparse``);
* numbers are formatted with ``format(v, "g")`` (float columns) or
  ``format(v, "")`` (int columns) and aligned on the decimal point; everything
  else is ``str(v)``, stripped and left-aligned; ``None`` is an empty cell;
* every column is at least its header's width plus 2 (``MIN_PADDING``);
* psql lines: ``+---+---+`` above and below, ``|---+---|`` under the header,
  cells padded by one space; cells containing line breaks make multi-line rows.

Not reproduced: ANSI colour codes in cells (tabulate measures them as zero
width; here they count as characters).  East-Asian wide characters are
measured with ``wcwidth`` when it is importable, as tabulate does.
"""
import math
import re
from functools import reduce
from itertools import zip_longest

__all__ = ["tabulate"]

MIN_PADDING = 2
_MULTILINE = re.compile(r"\r|\n|\r\n")
_THOUSANDS = re.compile(r"^(([+-]?[0-9]{1,3})(?:,([0-9]{3}))*)?(?(1)\.[0-9]*|\.[0-9]+)?$")
# tabulate's type ranks; unknown types rank as str.
_RANK = {type(None): 0, bool: 1, int: 2, float: 3, bytes: 4, str: 5}
_BY_RANK = {v: k for k, v in _RANK.items()}


# -- type deduction (tabulate's _type and friends) ----------------------------
def _convertible(conv, value):
    try:
        conv(value)
        return True
    except Exception:  # tabulate catches ValueError/TypeError; never crash a report
        return False


def _has_thousands(value):
    if isinstance(value, bytes):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            pass
    return isinstance(value, str) and _THOUSANDS.match(value) is not None


def _isnumber(value):
    if type(value) in (float, int):
        return True
    if not _convertible(float, value):
        return False
    if not isinstance(value, (str, bytes)):
        return True
    number = float(value)
    if not (math.isinf(number) or math.isnan(number)):
        return True
    return value.lower() in ("inf", "-inf", "nan")


def _isint(value):
    if type(value) is int:
        return True
    if (hasattr(value, "is_integer") or hasattr(value, "__array__")) and \
            str(type(value)).startswith("<class 'numpy.int"):
        return True
    return isinstance(value, (bytes, str)) and _convertible(int, value)


def _isbool(value):
    return type(value) is bool or (isinstance(value, (bytes, str)) and value in ("True", "False"))


def _type(value):
    if value is None or (isinstance(value, (bytes, str)) and not value):
        return type(None)
    if hasattr(value, "isoformat"):  # dates and times are text
        return str
    if _isbool(value):
        return bool
    if _isint(value) or (isinstance(value, str) and _has_thousands(value) and "." not in value):
        return int
    if _isnumber(value) or (isinstance(value, str) and _has_thousands(value)):
        return float
    if isinstance(value, bytes):
        return bytes
    return str


def _more_generic(type1, type2):
    return _BY_RANK[max(_RANK.get(type1, 5), _RANK.get(type2, 5))]


def _column_type(values):
    return reduce(_more_generic, [_type(v) for v in values], bool)


def _format(value, valtype):
    """tabulate's _format with floatfmt="g", intfmt="" and missingval=""."""
    if value is None:
        return ""
    if isinstance(value, (bytes, str)) and not value:
        return ""
    if valtype is int:
        try:
            return format(value, "")
        except Exception:
            return str(value)
    if valtype is bytes:
        try:
            return str(value, "ascii")
        except (TypeError, UnicodeDecodeError):
            return str(value)
    if valtype is float:
        if isinstance(value, str) and "," in value:
            value = value.replace(",", "")
        try:
            return format(float(value), "g")
        except Exception:
            return "{}".format(value)
    return "{}".format(value)


def _afterpoint(text):
    """Characters after the decimal point (or exponent), -1 when not a fraction."""
    if not (_isnumber(text) or _has_thousands(text)) or _isint(text):
        return -1
    pos = text.rfind(".")
    if pos < 0:
        pos = text.lower().rfind("e")
    return len(text) - pos - 1 if pos >= 0 else -1


# -- widths and alignment -----------------------------------------------------
def _width_function(texts, multiline):
    line_width = len
    # tabulate measures every cell with wcwidth.wcswidth when wcwidth is
    # installed; that equals len() for printable ASCII, so only look it up
    # when some cell is something else.
    if not all(t.isascii() and t.isprintable() for t in texts):
        try:
            import wcwidth
            line_width = wcwidth.wcswidth
        except ImportError:
            pass
    if multiline:
        return line_width, (lambda s: max(map(line_width, re.split("[\r\n]", s))))
    return line_width, line_width


def _pad(alignment, width, text):
    if alignment == "left":
        return "{0:<{1}s}".format(text, width)
    return "{0:>{1}s}".format(text, width)  # right and decimal


def _align_column(strings, alignment, minwidth, line_width, multiline):
    if alignment == "decimal":
        decimals = [_afterpoint(s) for s in strings]
        most = max(decimals)
        strings = [s + (most - d) * " " for s, d in zip(strings, decimals)]
    else:
        strings = [s.strip() for s in strings]
    if multiline:
        widths = [list(map(line_width, re.split("[\r\n]", s))) for s in strings]
        maxwidth = max(max(w for ws in widths for w in ws), minwidth)
        if line_width is len:
            return ["\n".join(_pad(alignment, maxwidth, line) for line in s.splitlines())
                    for s in strings]
        out = []
        for s, ws in zip(strings, widths):
            lines = s.splitlines() or s
            lens = [len(x) for x in re.split("[\r\n]", s)]
            out.append("\n".join(_pad(alignment, maxwidth - (w - n), line)
                                 for line, w, n in zip(lines, ws, lens)))
        return out
    widths = [line_width(s) for s in strings]
    maxwidth = max(max(widths), minwidth)
    return [_pad(alignment, maxwidth - (w - len(s)), s) for s, w in zip(strings, widths)]


def _align_header(header, alignment, width, line_width, multiline):
    if multiline:
        return "\n".join(_align_header(h, alignment, width, line_width, False)
                         for h in _MULTILINE.split(header))
    width += len(header) - line_width(header)
    return _pad("left" if alignment == "left" else "right", width, header)


# -- output formats -----------------------------------------------------------
def _psql(headers, rows, widths, multiline):
    def line(begin, sep, end):
        return begin + sep.join("-" * (w + 2) for w in widths) + end

    def data_rows(cells):
        if not multiline:
            return ["|" + "|".join(" " + c + " " for c in cells) + "|"]
        cell_lines = [c.splitlines() for c in cells]
        height = max(len(cl) for cl in cell_lines)
        cell_lines = [cl + [" " * w] * (height - len(cl)) for cl, w in zip(cell_lines, widths)]
        return ["|" + "|".join(" " + cl[i] + " " for cl in cell_lines) + "|"
                for i in range(height)]

    out = [line("+", "+", "+")]
    if headers:
        out += data_rows(headers)
        out.append(line("|", "+", "|"))
    for row in rows:
        out += data_rows(row)
    out.append(line("+", "+", "+"))
    return "\n".join(s.rstrip() for s in out)


_HTML_ALIGN = {"left": "", "right": ' style="text-align: right;"',
               "decimal": ' style="text-align: right;"'}


def _html(headers, header_aligns, rows, aligns):
    from html import escape as _htmlescape   # here: `tune ls` never renders HTML
    def row(tag, cells, cell_aligns):
        html = "".join("<{0}{1}>{2}</{0}>".format(tag, _HTML_ALIGN.get(a, ""), _htmlescape(c))
                       for c, a in zip(cells, cell_aligns))
        return "<tr>{}</tr>".format(html.rstrip())

    if headers:
        out = ["<table>\n<thead>\n" + row("th", headers, header_aligns) + "\n</thead>\n<tbody>"]
    else:
        out = ["<table>\n<tbody>"]
    out += [row("td", r, aligns) for r in rows]
    out.append("</tbody>\n</table>")
    return "\n".join(out)


def tabulate(rows, headers, tablefmt="psql"):
    """``tabulate.tabulate(rows, headers=headers, tablefmt=tablefmt, showindex=False)``.

    ``rows`` is a list of lists (cells of any type), ``headers`` a list of
    names; ``tablefmt`` is ``"psql"`` or ``"html"``.  Returns the table text
    without a trailing newline.
    """
    if tablefmt not in ("psql", "html"):
        raise ValueError("tablefmt must be 'psql' or 'html', got {!r}".format(tablefmt))
    rows = [list(r) for r in rows]
    headers = [str(h) for h in headers]
    if headers and rows:
        headers = [""] * max(0, len(rows[0]) - len(headers)) + headers
    if not headers and not rows:
        return ""

    texts = headers + [c.decode("utf8", "ignore") if isinstance(c, bytes) else str(c)
                       for r in rows for c in r]
    multiline = tablefmt == "psql" and any(_MULTILINE.search(t) for t in texts)
    line_width, width_fn = _width_function(texts, multiline)

    cols = list(zip_longest(*rows))
    coltypes = [_column_type(c) for c in cols]
    cols = [[_format(v, t) for v in c] for c, t in zip(cols, coltypes)]
    aligns = ["decimal" if t in (int, float) else "left" for t in coltypes]
    minwidths = [width_fn(h) + MIN_PADDING for h in headers] if headers else [0] * len(cols)
    cols = [_align_column(c, a, m, line_width, multiline)
            for c, a, m in zip(cols, aligns, minwidths)]

    if headers:
        t_cols = cols or [[""]] * len(headers)
        header_aligns = aligns or ["left"] * len(headers)
        widths = [max(m, max(width_fn(s) for s in c)) for m, c in zip(minwidths, t_cols)]
        headers = [_align_header(h, a, w, line_width, multiline)
                   for h, a, w in zip(headers, header_aligns, widths)]
    else:
        header_aligns = aligns
        widths = [max(width_fn(s) for s in c) for c in cols]
    table_rows = [list(r) for r in zip(*cols)]

    if tablefmt == "html":
        return _html(headers, header_aligns, table_rows, aligns)
    return _psql(headers, table_rows, widths, multiline)
