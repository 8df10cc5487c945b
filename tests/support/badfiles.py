"""A corpus of booking files as they arrive in real life, built in memory by the tests.

Each ``BadFile`` holds the bytes and what reading them must give: either counts (rows, valid,
rejected, reason codes, how the file was stored) or a file-level error whose message names the
problem.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
from dataclasses import dataclass, field

from booking_core.schema import SOURCE_FIELDS

HEADER = list(SOURCE_FIELDS)

GOOD_ROWS: list[list[str]] = [
    [
        "2",
        "Internet",
        "RoundTrip",
        "262",
        "19",
        "7",
        "Sat",
        "AKLDEL",
        "New Zealand",
        "1",
        "0",
        "0",
        "5.52",
        "0",
    ],
    [
        "1",
        "Internet",
        "RoundTrip",
        "112",
        "20",
        "3",
        "Sat",
        "AKLDEL",
        "Réunion",
        "0",
        "0",
        "0",
        "5.52",
        "0",
    ],
    [
        "2",
        "Mobile",
        "OneWay",
        "243",
        "22",
        "17",
        "Wed",
        "AKLDEL",
        "India",
        "1",
        "1",
        "0",
        "5.52",
        "1",
    ],
    [
        "1",
        "Internet",
        "CircleTrip",
        "96",
        "31",
        "4",
        "Sat",
        "PENTPE",
        "Myanmar (Burma)",
        "0",
        "0",
        "1",
        "4.67",
        "0",
    ],
    [
        "3",
        "Internet",
        "RoundTrip",
        "68",
        "22",
        "15",
        "Wed",
        "SYDPEN",
        "(not set)",
        "1",
        "0",
        "1",
        "8.83",
        "1",
    ],
]


def csv_text(
    rows: list[list[str]],
    header: list[str] | None = None,
    *,
    delimiter: str = ",",
    newline: str = "\r\n",
    final_newline: bool = False,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER if header is None else header)
    writer.writerows(rows)
    text = out.getvalue()
    return text if final_newline else text[: -len(newline)]


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@dataclass(frozen=True)
class BadFile:
    name: str
    data: bytes
    rows: int | None = None
    valid: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    compression: str | None = None
    line_endings: str | None = None
    delimiter: str | None = None
    error: str | None = None  # a file-level error whose message contains this

    @property
    def rejected(self) -> int | None:
        return None if self.rows is None or self.valid is None else self.rows - self.valid


def _latin1(text: str) -> bytes:
    return text.encode("latin-1")


def _reordered() -> BadFile:
    order = list(reversed(range(len(HEADER))))
    header = [HEADER[i] for i in order]
    rows = [[row[i] for i in order] for row in GOOD_ROWS]
    return BadFile("reordered.csv", _latin1(csv_text(rows, header)), rows=5, valid=5)


def _utf8_with_late_latin1() -> BadFile:
    # 70 KB of pure ASCII rows: the prefix sample is valid UTF-8, the Latin-1 byte comes later.
    ascii_rows = [GOOD_ROWS[0]] * 1100
    text = csv_text([*ascii_rows, GOOD_ROWS[1]])
    return BadFile(
        "late_latin1.csv",
        text.encode("latin-1"),
        rows=1101,
        valid=1101,
        encoding="latin-1",
    )


def corpus() -> list[BadFile]:
    good = csv_text(GOOD_ROWS)
    good_lf = csv_text(GOOD_ROWS, newline="\n", final_newline=True)
    cp1252_rows = [*GOOD_ROWS[:4], [*GOOD_ROWS[4][:8], "Côte d’Ivoire", *GOOD_ROWS[4][9:]]]
    huge = [*GOOD_ROWS[0][:8], "x" * (5 << 20), *GOOD_ROWS[0][9:]]
    broken_quote = good.replace("New Zealand", '"New Zealand', 1)
    truncated = good[: good.rindex("Myanmar")]
    nul_text = csv_text(
        [
            [*GOOD_ROWS[0][:8], "New\x00Zealand", *GOOD_ROWS[0][9:]],
            ["2\x00", *GOOD_ROWS[1][1:]],
            *GOOD_ROWS[2:],
        ]
    )
    repeated = csv_text([*GOOD_ROWS[:2], HEADER, *GOOD_ROWS[2:]])
    blank = good.replace("\r\n", "\r\n\r\n   \r\n", 2)
    padded_header = [f"  {name.upper()} " for name in HEADER]
    trailing = csv_text([[*row, "", ""] for row in GOOD_ROWS], [*HEADER, "", ""])
    unknown = csv_text([[*row, "x"] for row in GOOD_ROWS], [*HEADER, "Booking ID"])
    no_route = csv_text([row[:7] + row[8:] for row in GOOD_ROWS], HEADER[:7] + HEADER[8:])
    live = csv_text([row[:13] for row in GOOD_ROWS], HEADER[:13])
    mangled = csv_text([[*GOOD_ROWS[1][:8], "RÃ©union", *GOOD_ROWS[1][9:]]])
    quoted = csv_text(
        [
            [*GOOD_ROWS[0][:8], "Korea, Republic of", *GOOD_ROWS[0][9:]],
            [*GOOD_ROWS[1][:8], "New\r\nZealand", *GOOD_ROWS[1][9:]],
        ]
    )
    unquoted_comma = good.replace("India", "Korea, Republic of")
    one_csv = zipped({"bookings.csv": _latin1(good)})
    return [
        BadFile(
            "latin1_crlf.csv",
            _latin1(good),
            rows=5,
            valid=5,
            encoding="latin-1",
            line_endings="crlf",
        ),
        BadFile(
            "utf8_lf.csv", good_lf.encode(), rows=5, valid=5, encoding="utf-8", line_endings="lf"
        ),
        BadFile(
            "utf8_bom.csv", codecs.BOM_UTF8 + good.encode(), rows=5, valid=5, encoding="utf-8-sig"
        ),
        BadFile(
            "utf16_le_bom.csv",
            codecs.BOM_UTF16_LE + good.encode("utf-16-le"),
            rows=5,
            valid=5,
            encoding="utf-16-le",
        ),
        BadFile(
            "utf16_be_bom.csv",
            codecs.BOM_UTF16_BE + good.encode("utf-16-be"),
            rows=5,
            valid=5,
            encoding="utf-16-be",
        ),
        BadFile(
            "utf16_le_no_bom.csv", good.encode("utf-16-le"), rows=5, valid=5, encoding="utf-16-le"
        ),
        BadFile(
            "cp1252.csv", csv_text(cp1252_rows).encode("cp1252"), rows=5, valid=5, encoding="cp1252"
        ),
        _utf8_with_late_latin1(),
        BadFile(
            "cr_only.csv",
            _latin1(csv_text(GOOD_ROWS, newline="\r")),
            rows=5,
            valid=5,
            line_endings="cr",
        ),
        BadFile(
            "semicolon.csv",
            _latin1(csv_text(GOOD_ROWS, delimiter=";")),
            rows=5,
            valid=5,
            delimiter=";",
        ),
        BadFile(
            "tab.tsv", _latin1(csv_text(GOOD_ROWS, delimiter="\t")), rows=5, valid=5, delimiter="\t"
        ),
        BadFile(
            "nul_bytes.csv",
            nul_text.encode(),
            rows=5,
            valid=4,
            reasons={"num_passengers:not_integer": 1},
        ),
        BadFile(
            "five_mb_field.csv",
            _latin1(csv_text([huge, *GOOD_ROWS[1:]])),
            rows=5,
            valid=4,
            reasons={"booking_origin:too_long": 1},
        ),
        BadFile(
            "truncated_last_line.csv",
            _latin1(truncated),
            rows=4,
            valid=3,
            reasons={"row:field_count": 1},
        ),
        BadFile(
            "no_final_newline_lf.csv", csv_text(GOOD_ROWS, newline="\n").encode(), rows=5, valid=5
        ),
        BadFile(
            "broken_quote.csv",
            _latin1(broken_quote),
            rows=5,
            valid=4,
            reasons={"row:unterminated_quote": 1},
        ),
        BadFile("quoted_commas_newlines.csv", quoted.encode(), rows=2, valid=2),
        BadFile(
            "unquoted_comma.csv",
            _latin1(unquoted_comma),
            rows=5,
            valid=4,
            reasons={"row:field_count": 1},
        ),
        BadFile("reordered.csv", _reordered().data, rows=5, valid=5),
        BadFile(
            "padded_upper_header.csv", _latin1(csv_text(GOOD_ROWS, padded_header)), rows=5, valid=5
        ),
        BadFile("trailing_empty_columns.csv", _latin1(trailing), rows=5, valid=5),
        BadFile("unknown_column.csv", _latin1(unknown), rows=5, valid=5),
        BadFile(
            "repeated_header.csv",
            _latin1(repeated),
            rows=6,
            valid=5,
            reasons={"row:repeated_header": 1},
        ),
        BadFile("blank_lines.csv", _latin1(blank), rows=5, valid=5),
        BadFile("live_no_outcome.csv", _latin1(live), rows=5, valid=5),
        BadFile("mangled_characters.csv", mangled.encode(), rows=1, valid=1, encoding="utf-8"),
        BadFile(
            "gzip_without_suffix.csv",
            gzip.compress(_latin1(good)),
            rows=5,
            valid=5,
            compression="gzip",
        ),
        BadFile("one_csv.zip", one_csv, rows=5, valid=5, compression="zip"),
        BadFile(
            "zip_with_macos_junk.zip",
            zipped({"bookings.csv": _latin1(good), "__MACOSX/._bookings.csv": b"junk"}),
            rows=5,
            valid=5,
            compression="zip",
        ),
        BadFile("zip_named_csv.csv", one_csv, rows=5, valid=5, compression="zip"),
        BadFile("header_only.csv", _latin1(",".join(HEADER)), rows=0, valid=0),
        # File-level errors.
        BadFile("empty.csv", b"", error="file is empty"),
        BadFile("blank_only.csv", b"\r\n \r\n\r\n", error="no header line"),
        BadFile("missing_route.csv", _latin1(no_route), error="missing required column(s): route"),
        BadFile(
            "duplicated_column.csv",
            _latin1(csv_text([], [*HEADER, "route"])),
            error="more than once: route",
        ),
        BadFile(
            "not_a_csv.png",
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
            error="names no booking column",
        ),
        BadFile("no_booking_header.csv", b"a,b,c\n1,2,3\n", error="names no booking column"),
        BadFile("empty.zip", zipped({}), error="holds no CSV file"),
        BadFile(
            "two_csvs.zip",
            zipped({"a.csv": good.encode(), "b.csv": good.encode()}),
            error="holds 2 files",
        ),
        BadFile("nested.zip", zipped({"inner.zip": one_csv}), error="archive inside an archive"),
        BadFile(
            "truncated.csv.gz",
            gzip.compress(_latin1(good * 50))[:200],
            error="truncated or corrupt",
        ),
        BadFile("corrupt.zip", one_csv[:30], error="zip"),
    ]
