"""Streaming reader for booking CSV files as they exist in the wild.

``open_booking_csv(stream, name)`` reads only a prefix to decide how the file is stored and to
read its header, then ``BookingCsv.records()`` yields the data records one at a time: memory
stays constant whatever the file size (one chunk of text, one record, and the csv module's field
limit bound it).

What it copes with:

- compression by content (magic bytes), never by file name: gzip, or a zip archive holding exactly
  one file (a non-seekable stream holding a zip is spooled to a temporary file first);
- encodings: a UTF-8, UTF-16 LE or UTF-16 BE byte-order mark; UTF-16 without a mark (an ASCII
  header leaves every other byte NUL); else UTF-8 when the prefix is valid UTF-8, else
  Latin-1/CP1252. A file that starts as valid UTF-8 but holds invalid bytes later is decoded as
  UTF-8 up to the first invalid byte and as CP1252 from there on, and ``encoding`` says so;
- Latin-1 and CP1252 agree on every letter; bytes 0x80-0x9F are read as CP1252 (the only
  meaning they have in real text) and the file is reported as ``cp1252`` when its prefix holds
  any, else as ``latin-1``;
- CRLF, LF or CR line endings (``line_endings``: ``crlf``, ``lf``, ``cr``, ``mixed`` or None for a
  file without any line break); quoted fields holding delimiters and line breaks;
- the delimiter: ``,`` or, when the header line names the booking columns with one of them,
  ``;``, tab or ``|`` (spreadsheets in many locales save ``;``);
- a header matched by name whatever the column order, case or surrounding spaces; unnamed empty
  columns (a spreadsheet artefact) are ignored and counted, unknown named columns are reported;
- blank lines are skipped (they are not data rows and take no row number); a record the csv
  module cannot parse becomes a ``MalformedRecord`` instead of stopping the file.

Runaway quotes. A double quote at the start of a field opens a quoted field, which may hold
delimiters and line breaks; a stray one (a typo, a cell cut in two) opens a field that nothing
closes where its writer meant, and the csv module would fold every following line into it. So
the reader decides, line by line and before the csv module sees them, where a quoted field that
holds a line break ends (``_RecordLines``). The field is taken as stray when

- a line it would swallow reads, on its own, as a complete record: it has the header's fields
  (by the rule that checks a row's field count, ``fits_header``), reading a quote that opens a
  field the line does not close as a character (a stray quote of its own);
- or the file ends inside it;
- or it outgrows ``FIELD_SIZE_LIMIT``.

The line that opened it is then rejected on its own (``row:unterminated_quote``), and reading
resumes at the line after it, which may open a quoted field of its own. A quoted field whose
continuation lines are not records of their own (``"New\r\nZealand"``, an address over two
lines) stays one field, delimiters and line breaks included. Records are never taken apart on a
guess: a line is only ever rejected alone when the lines after it are whole records.

Data rows are numbered from 1 (the header is not a data row), in file order, so that the same
file always gives the same numbers.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import re
import shutil
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, BinaryIO, Final, cast

from booking_core.errors import MissingColumnError, UnreadableFileError
from booking_core.schema import OUTCOME_FIELD, REQUIRED_FIELDS, SOURCE_FIELDS

CHUNK_BYTES: Final = 1 << 16
SAMPLE_BYTES: Final = 1 << 16
# A 5 MB field must be readable (and then rejected), but a broken quote must not swallow an
# unbounded amount of the file into one field.
FIELD_SIZE_LIMIT: Final = 16 << 20
MAX_LINE_CHARS: Final = 64 << 20
RAW_TEXT_LIMIT: Final = 2000
ZIP_SPOOL_BYTES: Final = 8 << 20
DELIMITERS: Final = (",", ";", "\t", "|")

GZIP_MAGIC: Final = b"\x1f\x8b"
ZIP_MAGICS: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

if csv.field_size_limit() < FIELD_SIZE_LIMIT:
    csv.field_size_limit(FIELD_SIZE_LIMIT)


def _cp1252_table() -> str:
    """CP1252 with its five undefined bytes read as Latin-1, so decoding can never fail."""
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars)


_CP1252_TABLE: Final = _cp1252_table()


def complete_lines_end(text: str) -> int:
    """Where the complete lines of ``text`` end: after its last ``\\n``, else after its last
    ``\\r`` unless that is the final character (a ``\\n`` may follow it in the next chunk)."""
    cut = text.rfind("\n") + 1
    if cut == 0:
        cut = text.rfind("\r", 0, len(text) - 1) + 1
    return cut


def decode_cp1252(data: bytes) -> str:
    return codecs.charmap_decode(data, "strict", _CP1252_TABLE)[0]


def normalise_column_name(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower().replace(" ", "_")


MALFORMED: Final = "row:malformed"
UNTERMINATED_QUOTE: Final = "row:unterminated_quote"


@dataclass(frozen=True)
class MalformedRecord:
    """A record the csv module could not parse, or a line whose quote runs away (its text as
    far as it was read), with its reason (``MALFORMED`` or ``UNTERMINATED_QUOTE``)."""

    raw: str
    problem: str
    reason: str = MALFORMED


class UnterminatedQuote(csv.Error):
    """A line whose quote opens a field that runs away (see the module): raised in the csv
    reader's iteration, like the csv module's own errors, and the reading goes on after it."""

    def __init__(self, raw: str, problem: str) -> None:
        super().__init__(problem)
        self.raw = raw
        self.problem = problem


def fits_header(cells: list[str], width: int, needed_width: int) -> bool:
    """Whether a record has the header's fields: ``width`` of them, or as many as the last named
    column needs with nothing but empty cells past it (spreadsheets pad or trim trailing empty
    cells)."""
    if len(cells) == width:
        return True
    return len(cells) >= needed_width and not any(cell.strip() for cell in cells[needed_width:])


def open_quote(line: str, delimiter: str, in_quotes: bool) -> int | None:
    """Where the quoted field that ``line`` ends inside opens (the index of its quote; -1 when
    it opened before the line), or None when the line ends outside quotes. The line is read
    from the start of a record, or inside a quoted field when ``in_quotes``, by the csv
    module's rules for its default dialect: a quote opens a field only at its start, ``""``
    inside one is a quote, a quote elsewhere is a character, and a closing quote followed by
    other characters goes on as a plain field."""
    at = 0
    opened = -1
    while True:
        if in_quotes:
            closing = line.find('"', at)
            if closing < 0:
                return opened
            after = line[closing + 1 : closing + 2]
            if after == '"':
                at = closing + 2
                continue
            in_quotes = False
            if after in ("", "\r", "\n"):
                return None
            at = closing + 1
            if after != delimiter:
                # The rest of a plain field, up to the next delimiter.
                at = line.find(delimiter, at)
                if at < 0:
                    return None
            at += 1
            continue
        if line[at : at + 1] == '"':
            in_quotes = True
            opened = at
            at += 1
            continue
        at = line.find(delimiter, at)
        if at < 0:
            return None
        at += 1


def ends_in_quotes(line: str, delimiter: str, in_quotes: bool) -> bool:
    """Whether ``line`` ends inside a quoted field (``open_quote``)."""
    return open_quote(line, delimiter, in_quotes) is not None


# Bytes that CP1252 reads as letters and punctuation and Latin-1 as control characters.
_C1_BYTES: Final = re.compile(b"[\x80-\x9f]")
_UTF8: Final = ("utf-8", "utf-8-sig")


def decoding_label(
    encoding: str, fallback_at: int | None, non_ascii_before: bool, c1_after: bool
) -> str:
    """What a file's summary says of its encoding.

    ``fallback_at``: the first byte that is not ``encoding`` (UTF-8), from which on the file is
    read as CP1252. When only ASCII came before it, the whole file is 8-bit: ``cp1252`` when
    any byte 0x80-0x9F follows (only CP1252 gives them a meaning), else ``latin-1``.
    """
    if fallback_at is None:
        return encoding
    if not non_ascii_before:
        return "cp1252" if c1_after else "latin-1"
    return f"{encoding}, cp1252 from byte {fallback_at}"


@dataclass(frozen=True, slots=True)
class PartDecoding:
    """What decoding one part of a file found (``DecodingState.decode_part``)."""

    fallback_at: int | None  # the part's first byte that is not UTF-8 (a file offset)
    non_ascii_utf8: bool  # read as UTF-8, holding more than ASCII
    c1: bool  # read as CP1252, holding bytes 0x80-0x9F


@dataclass
class DecodingState:
    """How a file is being decoded: its encoding and what the bytes read so far showed.

    A UTF-8 file turns CP1252 at its first byte that is not UTF-8 (``fallback_at``). Parts of a
    file may also be decoded on their own (``decode_part``, in several processes) and followed
    in file order (``follow``), which tells whether the sequential reading would have read them
    the same.
    """

    encoding: str
    fallback_at: int | None = None
    non_ascii_seen: bool = False
    c1_seen: bool = False

    @property
    def label(self) -> str:
        return decoding_label(self.encoding, self.fallback_at, self.non_ascii_seen, self.c1_seen)

    def state(self) -> DecodingState:
        """A copy of the state alone."""
        return DecodingState(self.encoding, self.fallback_at, self.non_ascii_seen, self.c1_seen)

    def adopt(self, state: DecodingState) -> None:
        """Take the state reached by following the rest of the file's parts."""
        self.fallback_at = state.fallback_at
        self.non_ascii_seen = state.non_ascii_seen
        self.c1_seen = state.c1_seen

    def decode_part(self, data: bytes, offset: int) -> tuple[str, PartDecoding] | None:
        """``data`` (whole lines of an 8-bit or UTF-8 file, from byte ``offset``) decoded as
        reading on from this state decodes it, should nothing between here and there change
        the decoding (``follow`` tells). None when only the sequential reading knows: UTF-8
        letters, then bytes that are not UTF-8."""
        if self.encoding not in _UTF8 or self.fallback_at is not None:
            note_c1 = self.fallback_at is not None and not self.c1_seen
            c1 = note_c1 and _C1_BYTES.search(data) is not None
            return decode_cp1252(data), PartDecoding(None, False, c1)
        try:
            return data.decode("utf-8"), PartDecoding(None, not data.isascii(), False)
        except UnicodeDecodeError as exc:
            if not data[: exc.start].isascii():
                return None
            c1 = _C1_BYTES.search(data, exc.start) is not None
            return decode_cp1252(data), PartDecoding(offset + exc.start, False, c1)

    def follow(self, part: PartDecoding) -> bool:
        """Take in the next part of the file; False when the sequential reading would have read
        it otherwise (UTF-8 letters after the file turned CP1252)."""
        if self.fallback_at is None:
            self.non_ascii_seen = self.non_ascii_seen or part.non_ascii_utf8
            if part.fallback_at is None:
                return True
            self.fallback_at = part.fallback_at
        elif part.non_ascii_utf8:
            return False
        self.c1_seen = self.c1_seen or part.c1
        return True


class _Decoder(DecodingState):
    """Incremental decoding that never fails and reports what it actually did."""

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self._offset = 0
        if encoding in _UTF8:
            self._utf8: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder(encoding)()
            self._other: codecs.IncrementalDecoder | None = None
        elif encoding in ("latin-1", "cp1252"):
            self._utf8 = None
            self._other = None
        else:
            self._utf8 = None
            self._other = codecs.getincrementaldecoder(encoding)(errors="replace")

    def decode(self, data: bytes, final: bool = False) -> str:
        start = self._offset
        self._offset += len(data)
        if self._utf8 is not None:
            pending = self._utf8.getstate()[0]
            try:
                text = self._utf8.decode(data, final)
            except UnicodeDecodeError as exc:
                # Bytes that are not UTF-8: the rest of the file is CP1252 (a re-saved
                # Latin-1 file often starts with pure ASCII).
                whole = pending + data
                self._utf8 = None
                head, rest = whole[: exc.start], whole[exc.start :]
                self.follow(
                    PartDecoding(
                        start - len(pending) + exc.start,
                        not head.isascii(),
                        _C1_BYTES.search(rest) is not None,
                    )
                )
                return head.decode(self.encoding, errors="replace") + decode_cp1252(rest)
            # The decoded text, not the bytes: a chunk may end in the first byte of what the
            # next chunk shows is not UTF-8.
            if not self.non_ascii_seen and not text.isascii():
                self.non_ascii_seen = True
            return text
        if self._other is not None:
            return self._other.decode(data, final)
        decoded = self.decode_part(data, start)
        assert decoded is not None  # 8-bit text: always decodable
        self.follow(decoded[1])
        return decoded[0]


def _sniff_encoding(sample: bytes, at_end: bool) -> tuple[str, int]:
    """(encoding, number of byte-order-mark bytes to skip) for a file starting with ``sample``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 0
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    probe = sample[:4096]
    if len(probe) >= 4:
        even_nuls = probe[0::2].count(0)
        odd_nuls = probe[1::2].count(0)
        half = len(probe) // 2
        if odd_nuls > 0.8 * half and even_nuls < 0.1 * half:
            return "utf-16-le", 0
        if even_nuls > 0.8 * half and odd_nuls < 0.1 * half:
            return "utf-16-be", 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, at_end)
    except UnicodeDecodeError:
        if any(0x80 <= byte <= 0x9F for byte in sample):
            return "cp1252", 0
        return "latin-1", 0
    return "utf-8", 0


def _line_endings(text: str) -> str | None:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [name for name, count in (("crlf", crlf), ("lf", lf), ("cr", cr)) if count]
    if not kinds:
        return None
    return kinds[0] if len(kinds) == 1 else "mixed"


class _PrefixedStream(io.RawIOBase):
    """A binary stream whose first bytes were already read (to look at them) and given back."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        if self._prefix:
            taken = self._prefix[:size]
            self._prefix = self._prefix[size:]
            buffer[: len(taken)] = taken
            return len(taken)
        data = self._rest.read(size)
        buffer[: len(data)] = data
        return len(data)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    parts = []
    remaining = size
    while remaining > 0:
        data = stream.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


@dataclass
class _Opened:
    binary: IO[bytes]
    compression: str | None
    closers: list[IO[bytes]] = field(default_factory=list)


def _single_zip_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.rsplit("/", 1)[-1].startswith(".")
    ]
    if not members:
        raise UnreadableFileError(name, "zip archive holds no CSV file")
    if len(members) > 1:
        listed = ", ".join(info.filename for info in members[:5])
        more = "" if len(members) <= 5 else f" and {len(members) - 5} more"
        raise UnreadableFileError(
            name,
            f"zip archive holds {len(members)} files ({listed}{more}); expected exactly one CSV",
        )
    return members[0]


def _open_binary(stream: IO[bytes], name: str) -> _Opened:
    head = _read_exactly(stream, 4)
    prefixed: IO[bytes] = io.BufferedReader(_PrefixedStream(head, stream), CHUNK_BYTES)
    if head.startswith(GZIP_MAGIC):
        return _Opened(cast(IO[bytes], gzip.GzipFile(fileobj=prefixed, mode="rb")), "gzip")
    if head in ZIP_MAGICS:
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES)  # noqa: SIM115
        shutil.copyfileobj(prefixed, spool, CHUNK_BYTES)
        spool.seek(0)
        try:
            archive = zipfile.ZipFile(spool)
            member = _single_zip_member(archive, name)
            inner = archive.open(member)
        except zipfile.BadZipFile as exc:
            spool.close()
            raise UnreadableFileError(name, f"not a readable zip archive ({exc})") from None
        except NotImplementedError as exc:
            spool.close()
            raise UnreadableFileError(name, f"unsupported zip archive ({exc})") from None
        except UnreadableFileError:
            spool.close()
            raise
        return _Opened(inner, "zip", [spool])
    return _Opened(prefixed, None)


class BookingCsv:
    """An opened booking file: how it is stored, its header, and its data records."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.name = name
        opened = _open_binary(stream, name)
        self.compression = opened.compression
        self._binary = opened.binary
        self._closers = opened.closers
        self.blank_lines = 0
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _read(self, size: int) -> bytes:
        try:
            return self._binary.read(size)
        except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as exc:
            what = "compressed data" if self.compression else "file"
            raise UnreadableFileError(
                self.name, f"{what} is truncated or corrupt ({exc})"
            ) from None

    def _read_sample(self) -> bytes:
        parts = []
        remaining = SAMPLE_BYTES
        while remaining > 0:
            data = self._read(remaining)
            if not data:
                break
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    def _start(self) -> None:
        sample = self._read_sample()
        if not sample:
            raise UnreadableFileError(self.name, "file is empty")
        if sample.startswith(GZIP_MAGIC) or sample[:4] in ZIP_MAGICS:
            raise UnreadableFileError(self.name, "archive inside an archive: not a CSV file")
        self.encoding, skip = _sniff_encoding(sample, at_end=len(sample) < SAMPLE_BYTES)
        self._decoder = _Decoder(self.encoding)
        text = self._decoder.decode(sample[skip:])
        self.line_endings = _line_endings(text)
        self._chunks = self._decoded_chunks(text)
        self._block_carry = ""
        header_line, rest = self._find_header()
        if header_line is None:
            raise UnreadableFileError(self.name, "file is empty (no header line)")
        # The data: the text after the header line, then the chunks still to be decoded.
        self._data = self._data_text(rest)
        self.delimiter = _choose_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=self.delimiter), [])
        self._read_header(header, header_line)

    @property
    def decoder(self) -> DecodingState:
        """How the file is being decoded (its state: a UTF-8 file may turn CP1252 later)."""
        return self._decoder

    def _decoded_chunks(self, first: str) -> Iterator[str]:
        yield first
        while True:
            data = self._read(CHUNK_BYTES)
            text = self._decoder.decode(data, final=not data)
            if text:
                yield text
            if not data:
                return

    def _data_text(self, rest: str) -> Iterator[str]:
        if rest:
            yield rest
        yield from self._chunks

    def _check_line_length(self, carry: str) -> None:
        if len(carry) > MAX_LINE_CHARS:
            raise UnreadableFileError(
                self.name, f"a line longer than {MAX_LINE_CHARS >> 20} MiB: not a booking CSV"
            )

    def _find_header(self) -> tuple[str | None, str]:
        """The first non-blank line and the text after it; counts ``header_line_count``."""
        pending = ""
        self.header_line_count = 0
        for text in self._chunks:
            pending += text
            cut = complete_lines_end(pending)
            lines = io.StringIO(pending[:cut], newline="").readlines()
            for index, line in enumerate(lines):
                self.header_line_count += 1
                if line.strip():
                    return line, "".join(lines[index + 1 :]) + pending[cut:]
            pending = pending[cut:]
            self._check_line_length(pending)
        if pending:
            self.header_line_count += 1
            if pending.strip():
                return pending, ""
        return None, ""

    def _whole_lines(self, source: Iterator[str]) -> Iterator[str]:
        """``source``'s text in blocks of whole lines; the last one may lack its line break (and
        still hold a carriage return alone: a line break too, for whoever splits it)."""
        carry = ""
        for text in source:
            if carry:
                text = carry + text
            cut = complete_lines_end(text)
            carry = self._block_carry = text[cut:]
            self._check_line_length(carry)
            if cut:
                yield text[:cut]
        self._block_carry = ""
        if carry:
            yield carry

    def csv_reader(self) -> Iterator[list[str]]:
        """The csv module's reader over the data lines (after the header).

        Its iteration raises ``csv.Error`` for a record it cannot read, and may be resumed after
        it; ``malformed`` gives that record.
        """
        return self._csv_reader(self._data)

    def text_blocks(self) -> Iterator[str]:
        """The data as blocks of whole lines (each about one chunk of text), in file order.

        A block ends with a line break, except the last one of a file without a final line
        break. ``csv_reader_from`` continues from any block with the csv module.
        """
        return self._whole_lines(self._data)

    def csv_reader_from(self, block: str) -> Iterator[list[str]]:
        """``csv_reader`` from the start of ``block`` (the last one ``text_blocks`` gave) to the
        end of the file; ``text_blocks`` is not to be resumed."""
        source = chain((block + self._block_carry,), self._data)
        self._block_carry = ""
        return self._csv_reader(source)

    def _csv_reader(self, source: Iterator[str]) -> Iterator[list[str]]:
        self._lines = _RecordLines(self._whole_lines(source), self)
        return csv.reader(self._lines, delimiter=self.delimiter)

    def malformed(self, error: csv.Error) -> MalformedRecord:
        """The record whose reading raised ``error`` (in ``csv_reader``'s iteration)."""
        if isinstance(error, UnterminatedQuote):
            return MalformedRecord(error.raw, error.problem, UNTERMINATED_QUOTE)
        return MalformedRecord(truncate_raw(self._lines.last), str(error))

    def _read_header(self, header: list[str], header_line: str) -> None:
        names = [normalise_column_name(column) for column in header]
        self.header_names = names
        self.width = len(header)
        positions: dict[str, int] = {}
        unknown: list[str] = []
        ignored = 0
        duplicated: list[str] = []
        for index, (original, column) in enumerate(zip(header, names, strict=True)):
            if not column:
                ignored += 1
            elif column in SOURCE_FIELDS:
                if column in positions:
                    duplicated.append(column)
                positions.setdefault(column, index)
            else:
                unknown.append(original.strip())
        if not positions:
            shown = header_line.strip()[:80]
            raise UnreadableFileError(
                self.name, f"first line names no booking column, not a booking CSV: {shown!r}"
            )
        if duplicated:
            raise UnreadableFileError(
                self.name, "column(s) named more than once: " + ", ".join(duplicated)
            )
        missing = [column for column in REQUIRED_FIELDS if column not in positions]
        if missing:
            raise MissingColumnError(self.name, missing)
        self.has_outcome = OUTCOME_FIELD in positions
        self.fields: tuple[str, ...] = tuple(f for f in SOURCE_FIELDS if f in positions)
        self.positions: tuple[int, ...] = tuple(positions[f] for f in self.fields)
        self.unknown_columns = unknown
        self.ignored_columns = ignored
        # Columns past the last named one may be missing or extra in a row as long as they are
        # empty (spreadsheets pad or trim trailing empty cells).
        self.needed_width = max(i for i, column in enumerate(names) if column) + 1

    def records(self) -> Iterator[tuple[int, list[str] | MalformedRecord]]:
        """(data row number, cells or a MalformedRecord) for every non-blank record."""
        reader = self.csv_reader()
        row_number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row_number += 1
                yield row_number, self.malformed(exc)
                continue
            if is_blank(cells):
                self.blank_lines += 1
                continue
            row_number += 1
            yield row_number, cells

    def close(self) -> None:
        for closeable in (self._binary, *self._closers):
            with contextlib.suppress(Exception):
                closeable.close()


class _RecordLines:
    """The data lines (with their line breaks) for ``csv.reader``, handed over only in groups
    that make whole records, with runaway quotes cut back (see the module's description).

    A line without a quote, or whose quotes close on it, is a record's only line: it goes
    straight through. A line that ends inside a quoted field waits with the lines after it
    until the field closes (they go through together: the csv module reads them as one
    record) or runs away (the first line becomes an ``UnterminatedQuote``, raised in its turn,
    and the others are read again from the start of a record).
    """

    def __init__(self, blocks: Iterator[str], layout: BookingCsv) -> None:
        self._blocks = blocks
        self._lines: Iterator[str] = iter(())
        self._delimiter = layout.delimiter
        self._width = layout.width
        self._needed_width = layout.needed_width
        # Lines to read again from the start of a record, then lines and errors to hand over.
        self._again: deque[str] = deque()
        self._ready: deque[str | UnterminatedQuote] = deque()
        self.last = ""  # the last line handed over (where a csv module error happened)

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        while True:
            if self._ready:
                item = self._ready.popleft()
                if isinstance(item, UnterminatedQuote):
                    raise item
                self.last = item
                return item
            line = self._again.popleft() if self._again else next(self._lines, None)
            if line is None:
                line = self._first_line_of_next_block()
                if line is None:
                    raise StopIteration
            if '"' in line and ends_in_quotes(line, self._delimiter, in_quotes=False):
                self._follow_quoted_field(line)
                continue
            self.last = line
            return line

    def _next_line(self) -> str | None:
        if self._again:
            return self._again.popleft()
        line = next(self._lines, None)
        return line if line is not None else self._first_line_of_next_block()

    def _first_line_of_next_block(self) -> str | None:
        for block in self._blocks:
            self._lines = iter(io.StringIO(block, newline="").readlines())
            line = next(self._lines, None)
            if line is not None:
                return line
        return None

    def _follow_quoted_field(self, first: str) -> None:
        """``first`` ends inside a quoted field: find the line where that field ends, or that it
        runs away."""
        lines = [first]
        size = len(first)
        why = ""
        while not why:
            line = self._next_line()
            if line is None:
                why = "the file ends inside it"
                break
            lines.append(line)
            if self._reads_as_a_record(line):
                why = "a line after it reads as a record of its own"
            elif not ends_in_quotes(line, self._delimiter, in_quotes=True):
                self._ready.extend(lines)
                return
            else:
                size += len(line)
                if size > FIELD_SIZE_LIMIT:
                    why = f"it would run over more than {FIELD_SIZE_LIMIT >> 20} MiB"
        problem = f"a double quote opens a field that is not closed ({why}); read alone"
        self._ready.append(UnterminatedQuote(truncate_raw(lines[0]), problem))
        self._again.extendleft(reversed(lines[1:]))

    def _reads_as_a_record(self, line: str) -> bool:
        """Whether ``line`` alone has the header's fields, reading a quote that opens a field
        the line does not close as a character (a stray quote of its own)."""
        delimiter = self._delimiter
        opened = open_quote(line, delimiter, in_quotes=False)
        if opened is None:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        else:
            before = next(csv.reader([line[:opened]], delimiter=delimiter), [])[:-1]
            cells = before + line[opened + 1 :].rstrip("\r\n").split(delimiter)
        return fits_header(cells, self._width, self._needed_width)


def is_blank(cells: list[str]) -> bool:
    """A blank line, or a record of empty cells only (spreadsheets pad files with them)."""
    return not any(cell.strip() for cell in cells)


def _choose_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most booking column names (``,`` on ties)."""
    best, best_hits = ",", -1
    for delimiter in DELIMITERS:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        hits = sum(normalise_column_name(cell) in SOURCE_FIELDS for cell in cells)
        if hits > best_hits:
            best, best_hits = delimiter, hits
    return best


def truncate_raw(text: str) -> str:
    text = text.rstrip("\r\n")
    if len(text) <= RAW_TEXT_LIMIT:
        return text
    return f"{text[:RAW_TEXT_LIMIT]}…[{len(text) - RAW_TEXT_LIMIT} more characters]"


def raw_text(cells: list[str], delimiter: str) -> str:
    """The record as CSV text (quoted where needed), bounded in size."""
    limited = [
        cell if len(cell) <= RAW_TEXT_LIMIT else cell[:RAW_TEXT_LIMIT] + "…" for cell in cells
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(limited)
    return truncate_raw(out.getvalue())


def open_booking_csv(stream: BinaryIO | IO[bytes], name: str) -> BookingCsv:
    """Open a booking file from a binary stream (raises UnreadableFileError naming ``name``)."""
    try:
        return BookingCsv(stream, name)
    except UnreadableFileError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UnreadableFileError(
            name, f"compressed data is truncated or corrupt ({exc})"
        ) from None
