"""Trino's meaning offline: where sqlglot's Trino-to-DuckDB translation would change a result.

sqlglot translates most of Trino to DuckDB faithfully. Some functions it passes through to a
DuckDB namesake that means something else (``format('%s-%s', a, b)`` returned the literal
``%s-%s``), translates to a near miss (``slice`` took a length for an end index, ``date_diff``
counted boundaries instead of whole units, ``array_distinct`` lost the order), or silently drops
an argument (``split``'s limit, ``approx_percentile``'s weight). ``rewrite`` puts each of those
right on the parsed statement, mostly through the ``trino_*`` macros of ``MACROS`` (created in
every offline session), and ``check`` refuses, with one line, what cannot be put right or was
never checked. The tested table of the functions analysts use, with their offline status, is
``bookings.analytics.trino_functions``; docs/sql.md is generated from it.
"""

from __future__ import annotations

import re

from sqlglot import exp

# Every offline session: months and days of timestamps are UTC, as in Athena, and an integer
# divided by an integer is an integer (Trino's 5 / 2 is 2; DuckDB's default is 2.5).
SESSION_SETTINGS = ("SET TimeZone = 'UTC'", "SET integer_division = true")

# DuckDB macros with Trino's meaning. Typed overloads keep a DATE a DATE where DuckDB's own
# function returns a TIMESTAMP.
MACROS = (
    """CREATE OR REPLACE MACRO trino_interval(unit, amount) AS CASE lower(unit)
        WHEN 'millisecond' THEN to_milliseconds(amount) WHEN 'second' THEN to_seconds(amount)
        WHEN 'minute' THEN to_minutes(amount) WHEN 'hour' THEN to_hours(amount)
        WHEN 'day' THEN to_days(amount) WHEN 'week' THEN to_weeks(amount)
        WHEN 'month' THEN to_months(amount) WHEN 'quarter' THEN to_months(3 * amount)
        WHEN 'year' THEN to_years(amount)
        ELSE error('date_add: ' || unit || ' is not a Trino interval unit') END""",
    """CREATE OR REPLACE MACRO trino_date_add
        (unit VARCHAR, amount BIGINT, value DATE) AS
            CAST(value + trino_interval(unit, amount) AS DATE),
        (unit VARCHAR, amount BIGINT, value TIMESTAMP) AS value + trino_interval(unit, amount),
        (unit VARCHAR, amount BIGINT, value TIMESTAMPTZ) AS value + trino_interval(unit, amount)""",
    """CREATE OR REPLACE MACRO trino_date_trunc
        (unit VARCHAR, value DATE) AS CAST(date_trunc(unit, value) AS DATE),
        (unit VARCHAR, value TIMESTAMP) AS date_trunc(unit, value),
        (unit VARCHAR, value TIMESTAMPTZ) AS date_trunc(unit, value)""",
    # Trino's slice takes a start (from the end when negative) and a length.
    """CREATE OR REPLACE MACRO trino_slice(items, start, length) AS CASE
        WHEN start = 0 THEN error('slice: SQL array indices start at 1')
        WHEN length < 0 THEN error('slice: length must be greater than or equal to 0')
        WHEN start < 0 AND len(items) + start + 1 < 1 THEN array_slice(items, 1, 0)
        WHEN start < 0 THEN array_slice(items, len(items) + start + 1, len(items) + start + length)
        ELSE array_slice(items, start, start + length - 1) END""",
    # Trino keeps the first occurrence of each value, in order.
    """CREATE OR REPLACE MACRO trino_array_distinct(items) AS
        list_filter(items, lambda item, position: list_position(items, item) = position)""",
    # Trino: null when any element is null (DuckDB skips nulls); 0 when an element is absent.
    """CREATE OR REPLACE MACRO trino_array_max(items) AS CASE
        WHEN len(list_filter(items, lambda item: item IS NULL)) > 0 THEN NULL
        ELSE list_max(items) END""",
    """CREATE OR REPLACE MACRO trino_array_min(items) AS CASE
        WHEN len(list_filter(items, lambda item: item IS NULL)) > 0 THEN NULL
        ELSE list_min(items) END""",
    """CREATE OR REPLACE MACRO trino_array_position(items, item) AS
        coalesce(list_position(items, item), 0)""",
    # Trino counts down when start > stop; a sequence of dates steps by a day.
    """CREATE OR REPLACE MACRO trino_sequence
        (start BIGINT, stop BIGINT) AS
            generate_series(start, stop, CASE WHEN start <= stop THEN 1 ELSE -1 END),
        (start BIGINT, stop BIGINT, step BIGINT) AS generate_series(start, stop, step),
        (start DATE, stop DATE) AS list_transform(
            generate_series(CAST(start AS TIMESTAMP), CAST(stop AS TIMESTAMP),
                CASE WHEN start <= stop THEN INTERVAL '1 day' ELSE INTERVAL '-1 day' END),
            lambda day: CAST(day AS DATE)),
        (start DATE, stop DATE, step INTERVAL) AS list_transform(
            generate_series(CAST(start AS TIMESTAMP), CAST(stop AS TIMESTAMP), step),
            lambda day: CAST(day AS DATE))""",
    # Trino: null past the last field, an error for an index below 1 (DuckDB: '' and from the end).
    """CREATE OR REPLACE MACRO trino_split_part(text, delimiter, field) AS CASE
        WHEN field < 1 THEN error('split_part: index must be greater than zero')
        WHEN field > len(string_split(text, delimiter)) THEN NULL
        ELSE split_part(text, delimiter, field) END""",
    # Trino: null when the value at the path is an object or an array (DuckDB returns its text).
    """CREATE OR REPLACE MACRO trino_json_extract_scalar(json_text, path) AS CASE
        WHEN json_type(json_text, path) IN ('OBJECT', 'ARRAY') THEN NULL
        ELSE json_text ->> path END""",
    """CREATE OR REPLACE MACRO trino_json_size(json_text, path) AS CASE json_type(json_text, path)
        WHEN 'ARRAY' THEN json_array_length(json_text, path)
        WHEN 'OBJECT' THEN len(json_keys(json_text, path))
        WHEN NULL THEN NULL ELSE 0 END""",
    """CREATE OR REPLACE MACRO trino_is_json_scalar(json_text) AS
        json_type(json(json_text)) NOT IN ('OBJECT', 'ARRAY')""",
)

# Functions sqlglot does not know (it passes them through by name) whose DuckDB namesake was
# checked to mean the same; each is a row of the tested table.
SAME_NAME_IN_DUCKDB = frozenset({"geometric_mean", "histogram", "json_array_length", "map_values"})

# Trino functions sqlglot does not know, renamed to their DuckDB equivalent.
RENAMED = {
    "codepoint": "unicode",
    "every": "bool_and",
    "hamming_distance": "hamming",
    "is_finite": "isfinite",
    "is_infinite": "isinf",
    "json_size": "trino_json_size",
    "is_json_scalar": "trino_is_json_scalar",
}

# Why a Trino function is refused offline (the rest of the line says to run it in Athena).
REFUSED = {
    "approx_most_frequent": "DuckDB has no equivalent",
    "approx_set": "HyperLogLog sketches are Trino's own",
    "at_timezone": "DuckDB timestamps carry no time zone name",
    "bar": "DuckDB's bar() draws a different bar",
    "checksum": "the checksum is Trino's own",
    "human_readable_seconds": "DuckDB has no equivalent",
    "json_array_contains": "DuckDB has no equivalent",
    "json_array_get": "its Trino semantics are broken (Trino's documentation advises against it)",
    "luhn_check": "DuckDB has no equivalent",
    "map_agg": "DuckDB has no equivalent that keeps Trino's handling of duplicate keys",
    "millisecond": "DuckDB's millisecond() counts the seconds too",
    "numeric_histogram": "the histogram's buckets are Trino's own",
    "regexp_position": "DuckDB has no equivalent",
    "soundex": "DuckDB has no equivalent",
    "timezone": "DuckDB's timezone() means something else",
    "to_iso8601": "DuckDB has no equivalent",
    "to_milliseconds": "DuckDB's to_milliseconds() builds an interval instead",
    "to_timestamp": "DuckDB's to_timestamp() reads epoch seconds, not a formatted string",
    "typeof": "offline it would name DuckDB's types, not Trino's",
    "width_bucket": "DuckDB has no equivalent",
    "with_timezone": "DuckDB timestamps carry no time zone name",
    "xxhash64": "DuckDB has no equivalent",
}


# Functions sqlglot does not parse into a known expression that are nonetheless safe offline:
# same meaning under the same name, renamed, or rewritten by ``_fix``.
_CHECKED_UNKNOWN_TO_SQLGLOT = (
    SAME_NAME_IN_DUCKDB
    | RENAMED.keys()
    | {
        "e",
        "format_datetime",
        "infinity",
        "nan",
    }
)


class Refused(ValueError):
    """A Trino construct with no faithful offline translation; the message is one line."""


def refused(name: str, reason: str) -> Refused:
    return Refused(f"{name}() is not available offline: {reason}; run this query in Athena")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return str(node.sql_name()).lower()


def _literal_text(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _unit(node: exp.Expression) -> exp.Literal:
    unit = node.args.get("unit")
    text = unit.name if isinstance(unit, exp.Expression) else str(unit or "day")
    return exp.Literal.string(text.lower())


# --- format(): Java's Formatter syntax to DuckDB's {} syntax -----------------------------------

_JAVA_SPEC = re.compile(
    r"%(?:(?P<index>\d+)\$)?(?P<flags>[-#+ 0,(<]*)(?P<width>\d+)?(?:\.(?P<precision>\d+))?"
    r"(?P<conversion>[a-zA-Z%])"
)
_FORMAT_TYPES = {"d": "d", "f": "f", "e": "e", "E": "E", "x": "x", "X": "X", "o": "o", "s": ""}


def java_format_to_duckdb(pattern: str) -> str:
    """Trino's ``format`` pattern (Java's Formatter) as a DuckDB ``format`` pattern."""
    out: list[str] = []
    position = 0
    ordinary = 0
    for match in _JAVA_SPEC.finditer(pattern):
        out.append(pattern[position : match.start()].replace("{", "{{").replace("}", "}}"))
        position = match.end()
        conversion = match["conversion"]
        if conversion == "%":
            out.append("%")
            continue
        if conversion == "n":
            out.append("\n")
            continue
        flags = match["flags"] or ""
        if conversion not in _FORMAT_TYPES or set(flags) & set("#(<"):
            raise refused("format", f"the conversion {match.group(0)!r} has no DuckDB equivalent")
        if match["index"]:
            index = int(match["index"]) - 1
        else:
            index = ordinary
            ordinary += 1
        spec = ""
        if "-" in flags:
            spec += "<"
        elif conversion == "s" and match["width"]:
            spec += ">"  # Java right-aligns strings; DuckDB would left-align them
        spec += "+" if "+" in flags else " " if " " in flags else ""
        spec += "0" if "0" in flags else ""
        spec += match["width"] or ""
        spec += "," if "," in flags else ""
        spec += f".{match['precision']}" if match["precision"] else ""
        spec += _FORMAT_TYPES[conversion]
        out.append(f"{{{index}:{spec}}}" if spec else f"{{{index}}}")
    if "%" in pattern[position:]:
        raise refused("format", f"cannot read the pattern {pattern!r}")
    out.append(pattern[position:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


# --- format_datetime() and parse_datetime(): Joda patterns to strftime ------------------------

_JODA = {
    "yyyy": "%Y",
    "yy": "%y",
    "y": "%Y",
    "xxxx": "%G",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "DDD": "%j",
    "D": "%-j",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSS": "%g",
    "SSSSSS": "%f",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "EE": "%a",
    "E": "%a",
    "e": "%u",
    "ww": "%V",
}


def joda_to_strftime(pattern: str, function: str) -> str:
    """A Joda-Time pattern (Trino's format_datetime, parse_datetime) as a strftime pattern."""
    out: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "'":
            end = pattern.find("'", position + 1)
            if end == -1:
                raise refused(function, f"unclosed quote in the pattern {pattern!r}")
            literal = pattern[position + 1 : end] or "'"
            out.append(literal.replace("%", "%%"))
            position = end + 1
            continue
        if char.isalpha():
            end = position
            while end < len(pattern) and pattern[end] == char:
                end += 1
            token = pattern[position:end]
            if token not in _JODA:
                raise refused(function, f"the pattern letters {token!r} have no DuckDB equivalent")
            out.append(_JODA[token])
            position = end
            continue
        out.append("%%" if char == "%" else char)
        position += 1
    return "".join(out)


# --- regexp_replace(): Java's $1 group references to RE2's \1 -----------------------------------


def java_replacement_to_re2(replacement: str) -> str:
    out: list[str] = []
    position = 0
    while position < len(replacement):
        char = replacement[position]
        if char == "\\" and position + 1 < len(replacement):
            escaped = replacement[position + 1]
            out.append("\\\\" if escaped == "\\" else escaped)
            position += 2
        elif char == "$":
            digits = re.match(r"\d+", replacement[position + 1 :])
            if not digits:
                raise refused(
                    "regexp_replace", "named group references (${name}) have no DuckDB equivalent"
                )
            out.append("\\" + digits.group(0))
            position += 1 + len(digits.group(0))
        else:
            out.append(char)
            position += 1
    return "".join(out)


# --- the rewrite ----------------------------------------------------------------------------

_EXTRACT_FIELDS = {
    "DOW": "isodow",
    "DAY_OF_WEEK": "isodow",
    "DOY": "dayofyear",
    "DAY_OF_YEAR": "dayofyear",
    "YOW": "isoyear",
    "YEAR_OF_WEEK": "isoyear",
    "DAY_OF_MONTH": "day",
}


def _is_identity(node: exp.Expression | None) -> bool:
    if not isinstance(node, exp.Lambda):
        return False
    params = node.expressions
    body = node.this
    if isinstance(body, exp.Column) and body.table:
        return False
    return (
        len(params) == 1
        and isinstance(body, exp.Column | exp.Identifier)
        and body.name == params[0].name
    )


def _interval_arithmetic(node: exp.Add | exp.Sub) -> exp.Expression:
    """``x + INTERVAL '2' DAY`` through trino_date_add, which keeps a DATE a DATE."""
    interval = node.expression
    assert isinstance(interval, exp.Interval)
    unit = interval.args.get("unit")
    amount = interval.this
    text = amount.this if isinstance(amount, exp.Literal) else None
    if not isinstance(unit, exp.Var) or text is None or not re.fullmatch(r"-?\d+", text.strip()):
        return node
    value = int(text) if isinstance(node, exp.Add) else -int(text)
    return _call(
        "trino_date_add",
        exp.Literal.string(unit.name.lower()),
        exp.Literal.number(value),
        node.this,
    )


# One branch per Trino construct whose DuckDB translation changes its meaning: one table on
# purpose, read top to bottom against docs/sql.md.
def _fix(node: exp.Expr) -> exp.Expr:  # noqa: C901
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in RENAMED:
            return _call(RENAMED[name], *node.expressions)
        if name == "e" and not node.expressions:
            return _call("exp", exp.Literal.number(1))
        if name in {"nan", "infinity"} and not node.expressions:
            value = "NaN" if name == "nan" else "Infinity"
            return exp.cast(exp.Literal.string(value), exp.DataType.build("DOUBLE"))
        if name == "format_datetime" and len(node.expressions) == 2:
            value, pattern = node.expressions
            text = _literal_text(pattern)
            if text is None:
                raise refused(name, "its pattern must be a literal string offline")
            return _call("strftime", value, exp.Literal.string(joda_to_strftime(text, name)))
        return node
    if isinstance(node, exp.CurrentTimezone):
        return exp.Literal.string("UTC")  # Athena's sessions are UTC
    if isinstance(node, exp.ArraySort) and node.expression is not None:
        raise refused("array_sort", "the comparator form has no DuckDB equivalent")
    if isinstance(node, exp.ParseDatetime):
        text = _literal_text(node.args.get("format"))
        if text is None:
            raise refused("parse_datetime", "its pattern must be a literal string offline")
        parsed = _call(
            "strptime", node.this, exp.Literal.string(joda_to_strftime(text, "parse_datetime"))
        )
        return exp.cast(parsed, exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(node, exp.Format):
        text = _literal_text(node.this)
        if text is None:
            raise refused("format", "its pattern must be a literal string offline")
        return _call("format", exp.Literal.string(java_format_to_duckdb(text)), *node.expressions)
    if isinstance(node, exp.ArraySlice):
        length = node.args.get("end")
        if length is None:
            raise refused("slice", "it takes a start and a length")
        return _call("trino_slice", node.this, node.args["start"], length)
    if isinstance(node, exp.ArrayDistinct):
        return _call("trino_array_distinct", node.this)
    if isinstance(node, exp.ArrayMax | exp.ArrayMin):
        name = "trino_array_max" if isinstance(node, exp.ArrayMax) else "trino_array_min"
        return _call(name, node.this)
    if isinstance(node, exp.ArrayPosition):
        return _call("trino_array_position", node.this, node.expression)
    if isinstance(node, exp.ArraySize):
        return _call("cardinality", node.this)  # DuckDB's counts arrays and maps alike
    if isinstance(node, exp.DPipe):
        left, right = node.this, node.expression
        if isinstance(left, exp.Array) and isinstance(right, exp.Literal):
            return _call("list_append", left, right)
        if isinstance(right, exp.Array) and isinstance(left, exp.Literal):
            return _call("list_prepend", left, right)
        return node
    if isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval):
        return _interval_arithmetic(node)
    if isinstance(node, exp.GenerateSeries):
        args = [node.args["start"], node.args["end"]]
        if node.args.get("step") is not None:
            args.append(node.args["step"])
        return _call("trino_sequence", *args)
    if isinstance(node, exp.DateDiff):
        # DuckDB's date_sub counts whole units, as Trino does; its date_diff counts boundaries.
        return _call("date_sub", _unit(node), node.expression, node.this)
    if isinstance(node, exp.DateAdd):
        return _call("trino_date_add", _unit(node), node.expression, node.this)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
        return _call("trino_date_trunc", _unit(node), node.this)
    if isinstance(node, exp.SplitPart):
        return _call("trino_split_part", node.this, node.args["delimiter"], node.args["part_index"])
    if isinstance(node, exp.JSONExtractScalar):
        return _call("trino_json_extract_scalar", node.this, node.expression)
    if isinstance(node, exp.ApproxDistinct):
        # Offline data fits one machine: the exact count is within any of Trino's error bounds.
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.ApproxQuantile):
        if node.args.get("weight") is not None:
            raise refused("approx_percentile", "the weighted form has no DuckDB equivalent")
        # The exact percentile, a value of the data as Trino's estimate is.
        return _call("quantile_disc", node.this, node.args["quantile"])
    if isinstance(node, exp.Split) and node.args.get("limit") is not None:
        raise refused("split", "the form with a limit has no DuckDB equivalent")
    if isinstance(node, exp.UnixToTime) and node.args.get("zone") is not None:
        raise refused("from_unixtime", "DuckDB timestamps carry no time zone name")
    if isinstance(node, exp.Normalize):
        if node.args.get("form"):
            raise refused("normalize", "only the default form (NFC) has a DuckDB equivalent")
        return _call("nfc_normalize", node.this)
    if isinstance(node, exp.Extract):
        field = node.this.name.upper() if isinstance(node.this, exp.Expression) else ""
        if field in _EXTRACT_FIELDS:
            return _call(_EXTRACT_FIELDS[field], node.expression)
        return node
    if isinstance(node, exp.RegexpReplace):
        replacement = node.args.get("replacement")
        if replacement is None:
            return node
        text = _literal_text(replacement)
        if text is None:
            raise refused(
                "regexp_replace", "its replacement must be a literal string offline (no lambda)"
            )
        node.set("replacement", exp.Literal.string(java_replacement_to_re2(text)))
        return node
    if isinstance(node, exp.TimeToStr | exp.StrToTime):
        pattern = node.args.get("format")
        text = _literal_text(pattern)
        if text is not None and "%v" in text:
            # MySQL's %v (Trino's date_format) is the ISO week: strftime's %V.
            node.set("format", exp.Literal.string(text.replace("%v", "%V")))
        return node
    if isinstance(node, exp.Reduce) and _is_identity(node.args.get("finish")):
        node.set("finish", None)
        return node
    return node


def check(tree: exp.Expr) -> None:
    """Raises ``Refused`` for the first function of the statement that cannot run offline with
    Trino's meaning."""
    for node in tree.find_all(exp.Func):
        name = _function_name(node)
        if name in REFUSED:
            raise refused(name, REFUSED[name])
        if isinstance(node, exp.Anonymous) and name not in _CHECKED_UNKNOWN_TO_SQLGLOT:
            raise refused(name, "it is not among the Trino functions checked offline (docs/sql.md)")


def rewrite(tree: exp.Expr) -> exp.Expr:
    """The statement with every construct of Trino whose DuckDB translation would change its
    meaning replaced by one that keeps it (``check`` first refuses what cannot be kept)."""
    check(tree)
    # Children first, so that a rewritten call's arguments are rewritten too.
    for node in reversed(list(tree.dfs())):
        if node is tree:
            continue
        fixed = _fix(node)
        if fixed is not node:
            node.replace(fixed)
    return _fix(tree)
