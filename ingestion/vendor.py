"""Readers for vendor file drops: a delivered file becomes contract records plus rejected lines.

Streaming: the file (plain or gzip, told apart by its magic bytes) is read one line at a time
and each line is decoded on its own, so a bad byte costs one line, never the file, and memory
stays flat however large the delivery. Every data line ends up as record(s), as exactly one
`Rejection`, or as a counted blank line: nothing is dropped silently (see `ReadStats`).

Whole-file faults stop the delivery before a batch can exist: an empty or header-only file or
a header that breaks the contract raises when the reader is created; a truncated file or a
broken gzip raises while `.records` streams, which aborts the bronze write (no batch, nothing
partial). CSV fields that span lines are not supported: no vendor export of these datasets
writes them, and reading per line is what lets one bad line be rejected on its own.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from os import PathLike
from pathlib import Path
from typing import IO, Any

from marketpulse.errors import IngestError
from marketpulse.ingestion.bronze import Rejection
from marketpulse.ingestion.contracts import (
    CORPORATE_ACTIONS,
    INSTRUMENTS,
    NEWS_ARTICLES,
    PRICES_DAILY,
    Contract,
)
from marketpulse.ingestion.errors import ContractError, EmptyDelivery, UnreadableFile

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_LINE_BYTES = 1 << 20  # a longer "line" is garbage (or a missing newline): reject it
RAW_EXCERPT_BYTES = 2000  # how much of an over-long line a rejection keeps

Record = dict[str, Any]


@dataclass
class ReadStats:
    """How every data line of a delivery was accounted for (filled while `.records` streams)."""

    lines: int = 0  # data lines read (after the header), blank ones included
    blank_lines: int = 0  # empty or whitespace only: they carry nothing
    lines_without_records: int = 0  # actions files: a day with neither dividend nor split
    lines_with_records: int = 0
    records: int = 0  # an actions line with both a dividend and a split yields two
    rejected: int = 0

    @property
    def balanced(self) -> bool:
        return self.lines == (
            self.lines_with_records + self.rejected + self.blank_lines + self.lines_without_records
        )


class _OnePass(Iterator[Record]):
    """The records of a file: a second pass would yield nothing, so it is refused loudly."""

    def __init__(self, path: Path, records: Iterator[Record]) -> None:
        self._path, self._records, self._done = path, records, False

    def __iter__(self) -> _OnePass:
        if self._done:
            raise IngestError(
                f"the records of {self._path} have already been read; create a new reader "
                "to read the file again"
            )
        return self

    def __next__(self) -> Record:
        try:
            return next(self._records)
        except StopIteration:
            self._done = True
            raise


@dataclass
class VendorRead:
    """One delivered file, read lazily: iterate `.records` once; `.rejections` fills meanwhile."""

    path: Path
    contract: Contract
    records: Iterator[Record]
    rejections: list[Rejection] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # delivered but not in the contract
    missing_optional_columns: list[str] = field(default_factory=list)
    stats: ReadStats = field(default_factory=ReadStats)


@dataclass(frozen=True)
class _Options:
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    # A plain file cut mid-line can still have the right field count (a price cut from
    # "101.25" to "10"), so a missing final newline is treated as truncation.
    require_final_newline: bool = True


class _Reject(Exception):
    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(reason)
        self.rule_id, self.reason = rule_id, reason


# --- lines ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    number: int  # physical line, 1-based
    data: bytes  # without its end of line; only the first max_line_bytes when too_long
    too_long: bool = False


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        is_gzip = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if is_gzip else path.open("rb")


def _lines(path: Path, dataset: str, opts: _Options) -> Iterator[_Line]:
    limit = opts.max_line_bytes
    try:
        with _open(path) as stream:
            number = 0
            while chunk := stream.readline(limit + 1):
                number += 1
                if len(chunk) > limit and not chunk.endswith(b"\n"):
                    while (rest := stream.readline(limit + 1)) and not rest.endswith(b"\n"):
                        pass  # skip the remainder of the over-long line
                    yield _Line(number, chunk[:limit], too_long=True)
                    continue
                if not chunk.endswith(b"\n") and opts.require_final_newline:
                    raise UnreadableFile(
                        path,
                        dataset,
                        f"its last line ({number}) has no end-of-line, so the file looks "
                        "truncated (pass require_final_newline=False if it is complete)",
                    )
                yield _Line(number, chunk.removesuffix(b"\n").removesuffix(b"\r"))
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise UnreadableFile(path, dataset, f"{type(exc).__name__}: {exc}") from exc


def _require_data(path: Path, dataset: str, opts: _Options, *, header: bool) -> bytes:
    """The first line, after checking that a non-blank data line exists (after the header)."""
    lines = _lines(path, dataset, opts)
    try:
        first = next(lines, None)
        if first is None:
            raise EmptyDelivery(path, dataset, "is empty")
        if not header and first.data.strip():
            return first.data
        if any(line.data.strip() for line in lines):
            return first.data
        raise EmptyDelivery(
            path, dataset, "has a header but no data lines" if header else "has only blank lines"
        )
    finally:
        lines.close()


def _stream(
    read: VendorRead,
    opts: _Options,
    parse: Callable[[int, str], list[Record]],
    *,
    header: bool,
) -> Iterator[Record]:
    """Records of every data line; rejections and counts go to `read` as lines pass."""
    stats = read.stats

    def reject(number: int, rule_id: str, reason: str, raw: str) -> None:
        read.rejections.append(Rejection(number, rule_id, reason, raw))
        stats.rejected += 1

    lines = _lines(read.path, read.contract.dataset, opts)
    if header:
        next(lines, None)  # checked when the reader was created
    for line in lines:
        number = line.number - 1 if header else line.number  # 1 = first line after a header
        stats.lines += 1
        if line.too_long:
            excerpt = line.data[:RAW_EXCERPT_BYTES].decode("utf-8", "backslashreplace")
            reject(number, "line_too_long", f"longer than {opts.max_line_bytes} bytes", excerpt)
            continue
        try:
            text = line.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line.data.decode("utf-8", "backslashreplace")
            bad = line.data[exc.start]
            reason = f"not valid UTF-8 (byte 0x{bad:02x} at offset {exc.start})"
            reject(number, "encoding", reason, raw)
            continue
        if line.number == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            stats.blank_lines += 1
            continue
        try:
            records = parse(number, text)
        except _Reject as exc:
            reject(number, exc.rule_id, exc.reason, text)
            continue
        if records:
            stats.lines_with_records += 1
            stats.records += len(records)
        else:
            stats.lines_without_records += 1
        yield from records


# --- CSV header matching ---------------------------------------------------------------------
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


@dataclass(frozen=True)
class _Field:
    target: str
    names: tuple[str, ...]  # accepted header names; the first is shown in messages
    required: bool = True


def _decode_header(path: Path, dataset: str, raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, dataset, f"its header is not valid UTF-8 ({exc})") from exc
    try:
        return [name.strip() for name in next(csv.reader([text]), [])]
    except csv.Error as exc:
        raise UnreadableFile(path, dataset, f"its header is not valid CSV ({exc})") from exc


@dataclass(frozen=True)
class _Header:
    names: list[str]
    index: dict[str, int]  # contract target -> column position
    ignored: list[str]
    missing_optional: list[str]


def _match_header(path: Path, dataset: str, names: list[str], fields: list[_Field]) -> _Header:
    lookup = {_norm(n): f for f in fields for n in (*f.names, f.target)}
    index: dict[str, int] = {}
    ignored: list[str] = []
    expected = [f.names[0] for f in fields if f.required]
    for position, name in enumerate(names):
        f = lookup.get(_norm(name))
        if f is None:
            ignored.append(name)
        elif f.target in index:
            raise ContractError(
                path,
                dataset,
                found=names,
                expected=expected,
                detail=f"columns {names[index[f.target]]!r} and {name!r} both mean {f.target}",
            )
        else:
            index[f.target] = position
    missing = [f.names[0] for f in fields if f.required and f.target not in index]
    if missing:
        raise ContractError(path, dataset, found=names, expected=expected, missing=missing)
    optional = [  # a missing ticker column is handled by the ticker argument
        f.names[0] for f in fields if not f.required and f.target not in index and f is not _TICKER
    ]
    return _Header(names, index, ignored, optional)


def _csv_fields(text: str, header: _Header) -> list[str]:
    if text.count('"') % 2:
        raise _Reject("csv_quote", "a quoted field is not closed on this line")
    try:
        fields = next(csv.reader([text]))
    except csv.Error as exc:
        raise _Reject("csv_malformed", f"not valid CSV: {exc}") from exc
    if len(fields) != len(header.names):
        raise _Reject(
            "csv_field_count",
            f"expected {len(header.names)} fields ({', '.join(header.names)}), found {len(fields)}",
        )
    return fields


def _csv_read(
    path: str | PathLike[str],
    contract: Contract,
    fields: list[_Field],
    build: Callable[[int, dict[str, str]], list[Record]],
    opts: _Options,
    *,
    check: Callable[[Path, _Header], None] | None = None,
) -> VendorRead:
    path = Path(path)
    raw = _require_data(path, contract.dataset, opts, header=True)
    header = _match_header(
        path, contract.dataset, _decode_header(path, contract.dataset, raw), fields
    )
    if check is not None:
        check(path, header)

    def parse(number: int, text: str) -> list[Record]:
        values = _csv_fields(text, header)
        return build(number, {target: values[i] for target, i in header.index.items()})

    read = VendorRead(path, contract, iter(()))
    read.ignored_columns = header.ignored
    read.missing_optional_columns = header.missing_optional
    read.records = _OnePass(path, _stream(read, opts, parse, header=True))
    return read


def _ticker_check(
    ticker: str | None, dataset: str, fields: list[_Field]
) -> Callable[[Path, _Header], None]:
    def check(path: Path, header: _Header) -> None:
        if "ticker" not in header.index and ticker is None:
            raise ContractError(
                path,
                dataset,
                found=header.names,
                expected=[f.names[0] for f in fields if f.required] + ["Ticker"],
                missing=["Ticker"],
                detail="no Ticker/Symbol column and no ticker argument: pass ticker= for a "
                "single-ticker export",
            )

    return check


# --- prices ----------------------------------------------------------------------------------
_TICKER = _Field("ticker", ("Ticker", "Symbol"), required=False)  # else the ticker argument
PRICE_FIELDS = [
    _Field("trade_date", ("Date", "Trade Date")),
    _Field("open", ("Open",)),
    _Field("high", ("High",)),
    _Field("low", ("Low",)),
    _Field("close", ("Close",)),
    _Field("adj_close", ("Adj Close",), required=False),
    _Field("volume", ("Volume",)),
    _TICKER,
]


def read_prices_csv(
    path: str | PathLike[str],
    ticker: str | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    require_final_newline: bool = True,
) -> VendorRead:
    """A vendor OHLCV export (Date, Open, High, Low, Close[, Adj Close], Volume[, Ticker]).

    Values land as delivered; a Ticker/Symbol column wins over the `ticker` argument.
    """
    opts = _Options(max_line_bytes, require_final_newline)

    def build(number: int, row: dict[str, str]) -> list[Record]:
        return [{"line_number": number, "ticker": ticker, **row}]

    check = _ticker_check(ticker, PRICES_DAILY.dataset, PRICE_FIELDS)
    return _csv_read(path, PRICES_DAILY, PRICE_FIELDS, build, opts, check=check)


# --- corporate actions -----------------------------------------------------------------------
ACTION_FIELDS = [
    _Field("ex_date", ("Date",)),
    _Field("dividends", ("Dividends", "Dividend", "dividend_amount"), required=False),
    _Field("splits", ("Stock Splits", "Splits", "split_ratio"), required=False),
    _TICKER,
]
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RATIO = re.compile(r"\s*([^:/\s]+)\s*[:/]\s*([^:/\s]+)\s*")


def _decimal(text: str) -> Decimal | None:
    text = text.strip()
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _decimal_text(value: Decimal) -> str:
    with localcontext() as ctx:
        ctx.prec = 20  # beyond a double's precision; 1:3 has no finite decimal
        return format((+value).normalize(), "f")


def split_ratio(text: str) -> str | None:
    """New shares per old share as a decimal string ("2:1", "2/1", "2" -> "2"); None if none.

    Raises ValueError for a notation that cannot be read without guessing.
    """
    if not text.strip():
        return None
    if match := _RATIO.fullmatch(text):
        new, old = _decimal(match[1]), _decimal(match[2])
        if new is None or old is None or new <= 0 or old <= 0:
            raise ValueError(f"split {text!r} is not a ratio of two positive numbers")
        with localcontext() as ctx:
            ctx.prec = 20
            return _decimal_text(new / old)
    value = _decimal(text)
    if value is None or value < 0:
        raise ValueError(f"split {text!r} is neither a ratio (2:1, 2/1) nor a number >= 0")
    return None if value == 0 else _decimal_text(value)


def read_corporate_actions_csv(
    path: str | PathLike[str],
    ticker: str | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    require_final_newline: bool = True,
) -> VendorRead:
    """A vendor "actions" export (Date, Dividends, Stock Splits[, Ticker]).

    A line yields a dividend record when Dividends is non-zero, a split record when Stock
    Splits is non-zero (both share the line's number), none when both are zero or empty
    (counted in `stats.lines_without_records`). A value that cannot be read rejects the line.
    """
    opts = _Options(max_line_bytes, require_final_newline)

    def build(number: int, row: dict[str, str]) -> list[Record]:
        base = {
            "line_number": number,
            "ticker": row.get("ticker", ticker),
            "ex_date": row["ex_date"],
        }
        out: list[Record] = []
        amount = row.get("dividends", "")
        if amount.strip():
            value = _decimal(amount)
            if value is None:
                raise _Reject("dividend_amount", f"dividend {amount!r} is not a number")
            if value != 0:
                out.append({**base, "action_type": "dividend", "dividend_amount": amount})
        try:
            ratio = split_ratio(row.get("splits", ""))
        except ValueError as exc:
            raise _Reject("split_ratio", str(exc)) from exc
        if ratio is not None:
            out.append({**base, "action_type": "split", "split_ratio": ratio})
        return out

    def check(path: Path, header: _Header) -> None:
        if "dividends" not in header.index and "splits" not in header.index:
            raise ContractError(
                path,
                CORPORATE_ACTIONS.dataset,
                found=header.names,
                expected=["Date", "Dividends", "Stock Splits"],
                missing=["Dividends", "Stock Splits"],
                detail="neither a Dividends nor a Stock Splits column",
            )
        _ticker_check(ticker, CORPORATE_ACTIONS.dataset, ACTION_FIELDS)(path, header)

    return _csv_read(path, CORPORATE_ACTIONS, ACTION_FIELDS, build, opts, check=check)


# --- instruments -----------------------------------------------------------------------------
INSTRUMENT_FIELDS = [
    _Field("ticker", ("Ticker", "Symbol")),
    _Field("name", ("Name",)),
    *(
        _Field(c.name, (c.name,), required=False)
        for c in INSTRUMENTS.columns
        if c.name not in ("line_number", "ticker", "name")
    ),
]


def read_instruments_csv(
    path: str | PathLike[str],
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    require_final_newline: bool = True,
) -> VendorRead:
    """A ticker master export (ticker or Symbol, name, sector, industry, exchange, dates)."""
    opts = _Options(max_line_bytes, require_final_newline)

    def build(number: int, row: dict[str, str]) -> list[Record]:
        return [{"line_number": number, **row}]

    return _csv_read(path, INSTRUMENTS, INSTRUMENT_FIELDS, build, opts)


# --- news (JSON lines) -------------------------------------------------------------------------
NEWS_FIELDS = {
    "article_id": ("article_id", "id"),
    "published_at": ("published_at",),
    "headline": ("headline",),
    "summary": ("summary",),
    "publisher": ("publisher", "source"),
    "url": ("url",),
    "tickers": ("tickers",),
}
_NEWS_LOOKUP = {_norm(name): target for target, names in NEWS_FIELDS.items() for name in names}


def _json_text(name: str, value: Any) -> str:
    if isinstance(value, str):  # numbers arrive as their literal text (parse hooks below)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    raise _Reject("json_field_type", f"{name} is a {type(value).__name__}, expected text")


def _json_tickers(value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return value
    raise _Reject("json_field_type", "tickers is neither a list of text nor a comma list")


def read_news_jsonl(
    path: str | PathLike[str],
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    require_final_newline: bool = True,
) -> VendorRead:
    """News articles, one JSON object per line (`id` and `source` accepted as aliases).

    Keys the contract does not know are ignored and listed in `.ignored_columns` as they are
    met; a required field that is missing or null rejects its line.
    """
    path = Path(path)
    opts = _Options(max_line_bytes, require_final_newline)
    _require_data(path, NEWS_ARTICLES.dataset, opts, header=False)
    read = VendorRead(path, NEWS_ARTICLES, iter(()))
    required = set(NEWS_ARTICLES.required)

    def parse(number: int, text: str) -> list[Record]:
        try:
            # Numbers keep their delivered text: 1e400 must not become inf, 0.10 not 0.1.
            obj = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            raise _Reject("json_malformed", f"not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise _Reject("json_malformed", f"a JSON {type(obj).__name__}, not an object")
        values: dict[str, tuple[str, Any]] = {}
        for key, value in obj.items():
            target = _NEWS_LOOKUP.get(_norm(key))
            if target is None:
                if key not in read.ignored_columns:
                    read.ignored_columns.append(key)
            elif target in values:
                raise _Reject(
                    "json_field_conflict", f"{values[target][0]!r} and {key!r} both give {target}"
                )
            else:
                values[target] = (key, value)
        record: Record = {"line_number": number}
        for target in NEWS_FIELDS:
            key, value = values.get(target, (target, None))
            if value is None:
                if target in required:
                    raise _Reject("json_missing_field", f"required field {target} is missing")
                record[target] = None
            elif target == "tickers":
                record[target] = _json_tickers(value)
            else:
                record[target] = _json_text(key, value)
        return [record]

    read.records = _OnePass(path, _stream(read, opts, parse, header=False))
    return read
