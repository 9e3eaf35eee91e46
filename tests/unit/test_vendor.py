from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketpulse.errors import IngestError
from marketpulse.ingestion.bronze import BronzeWriter
from marketpulse.ingestion.contracts import CORPORATE_ACTIONS, NEWS_ARTICLES, PRICES_DAILY
from marketpulse.ingestion.errors import ContractError, EmptyDelivery, UnreadableFile
from marketpulse.ingestion.vendor import (
    VendorRead,
    read_corporate_actions_csv,
    read_instruments_csv,
    read_news_jsonl,
    read_prices_csv,
    split_ratio,
)

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
ROW1 = "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"
ROW2 = "2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500\n"


def _file(tmp_path: Path, name: str, content: str | bytes, *, gz: bool = False) -> Path:
    data = content.encode() if isinstance(content, str) else content
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _drain(read: VendorRead) -> list[dict]:
    return list(read.records)


def _land(tmp_path: Path, read: VendorRead, source: str = "vendor"):
    writer = BronzeWriter(tmp_path / "raw")
    return writer.write_records(
        read.contract,
        source,
        read.records,
        rejections=read.rejections,
        original=read.path,
        now=NOW,
    )


def _nothing_landed(tmp_path: Path) -> bool:
    raw = tmp_path / "raw"
    leftovers = [p for p in raw.rglob("*") if p.is_file()] if raw.exists() else []
    return leftovers == []


# --- prices ----------------------------------------------------------------------------------
def test_prices_map_vendor_headers_and_keep_values_as_delivered(tmp_path: Path) -> None:
    path = _file(tmp_path, "aapl.csv", HEADER + ROW1 + "2024-01-03,1e3,0185.880,-1,NaN,,12.5\n")
    read = read_prices_csv(path, ticker="AAPL")
    assert read.contract is PRICES_DAILY
    assert _drain(read) == [
        {
            "line_number": 1,
            "ticker": "AAPL",
            "trade_date": "2024-01-02",
            "open": "187.15",
            "high": "188.44",
            "low": "183.89",
            "close": "185.64",
            "adj_close": "184.94",
            "volume": "82488700",
        },
        {
            "line_number": 2,
            "ticker": "AAPL",
            "trade_date": "2024-01-03",
            "open": "1e3",
            "high": "0185.880",
            "low": "-1",
            "close": "NaN",
            "adj_close": "",
            "volume": "12.5",
        },
    ]
    assert read.rejections == [] and read.ignored_columns == []


@pytest.mark.parametrize(
    "header",
    [
        "date,OPEN,high,LOW,close,adj_close,volume",
        " Date , Open , High , Low , Close , Adj-Close , Volume ",
        "DATE,Open,High,Low,Close,AdjClose,VOLUME",
        "trade_date,open,high,low,close,adj close,volume",
    ],
)
def test_header_names_match_ignoring_case_spaces_underscores_dashes(
    tmp_path: Path, header: str
) -> None:
    read = read_prices_csv(_file(tmp_path, "p.csv", header + "\n" + ROW1), ticker="AAPL")
    [record] = _drain(read)
    assert record["trade_date"] == "2024-01-02" and record["adj_close"] == "184.94"


def test_symbol_column_gives_each_row_its_ticker(tmp_path: Path) -> None:
    content = "Symbol,Date,Open,High,Low,Close,Volume\nMSFT,2024-01-02,1,2,0.5,1.5,10\n"
    read = read_prices_csv(_file(tmp_path, "p.csv", content), ticker="IGNORED")
    assert [r["ticker"] for r in _drain(read)] == ["MSFT"]
    assert read.missing_optional_columns == ["Adj Close"]


def test_no_ticker_column_and_no_ticker_argument_is_a_contract_error(tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv", HEADER + ROW1)
    with pytest.raises(ContractError, match="Ticker") as info:
        read_prices_csv(path)
    assert info.value.path == str(path) and str(path) in str(info.value)
    assert info.value.dataset == "prices_daily" and info.value.missing == ("Ticker",)


def test_missing_required_column_lists_found_and_expected(tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv", "Date,Open,High,Low,Volume\n2024-01-02,1,2,0.5,10\n")
    with pytest.raises(ContractError) as info:
        read_prices_csv(path, ticker="AAPL")
    error = info.value
    assert error.missing == ("Close",)
    assert error.found == ("Date", "Open", "High", "Low", "Volume")
    assert "Close" in error.expected and str(path) in str(error) and "Found columns" in str(error)


def test_renamed_column_is_a_contract_error_not_a_silent_null(tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv", "Date,Open,High,Low,Last,Volume\n2024-01-02,1,2,0.5,1,10\n")
    with pytest.raises(ContractError, match="Close"):
        read_prices_csv(path, ticker="AAPL")


def test_two_columns_meaning_the_same_field_is_a_contract_error(tmp_path: Path) -> None:
    content = "Ticker,Symbol,Date,Open,High,Low,Close,Volume\nA,A,2024-01-02,1,2,0.5,1,10\n"
    with pytest.raises(ContractError, match="both mean ticker"):
        read_prices_csv(_file(tmp_path, "p.csv", content))


def test_unknown_columns_are_ignored_but_reported(tmp_path: Path) -> None:
    content = (
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2024-01-02,1,2,0.5,1.5,10,0.0,0.0\n"
    )
    read = read_prices_csv(_file(tmp_path, "p.csv", content), ticker="AAPL")
    [record] = _drain(read)
    assert read.ignored_columns == ["Dividends", "Stock Splits"]
    assert "Dividends" not in record and record["close"] == "1.5"


def test_gzip_is_detected_by_magic_bytes_not_by_extension(tmp_path: Path) -> None:
    gz_named_csv = _file(tmp_path, "gz.csv", HEADER + ROW1, gz=True)
    plain_named_gz = _file(tmp_path, "plain.csv.gz", HEADER + ROW1)
    for path in (gz_named_csv, plain_named_gz):
        assert [r["close"] for r in _drain(read_prices_csv(path, ticker="A"))] == ["185.64"]


def test_bom_and_crlf_line_endings_are_handled(tmp_path: Path) -> None:
    content = ("\ufeff" + HEADER + ROW1).replace("\n", "\r\n")
    [record] = _drain(read_prices_csv(_file(tmp_path, "p.csv", content), ticker="A"))
    assert record["trade_date"] == "2024-01-02" and record["volume"] == "82488700"


@pytest.mark.parametrize(
    ("content", "gz", "match"),
    [
        ("", False, "is empty"),
        ("", True, "is empty"),
        (HEADER, False, "header but no data"),
        (HEADER + "\n  \n\n", True, "header but no data"),
    ],
)
def test_empty_or_header_only_file_is_a_typed_error(
    tmp_path: Path, content: str, gz: bool, match: str
) -> None:
    path = _file(tmp_path, "p.csv", content, gz=gz)
    with pytest.raises(EmptyDelivery, match=match) as info:
        read_prices_csv(path, ticker="A")
    assert info.value.path == str(path) and isinstance(info.value, IngestError)


def _big_prices(rows: int) -> str:
    return HEADER + "".join(f"2024-01-02,{i},2,0.5,1.5,1.4,{i}\n" for i in range(rows))


def test_truncated_gzip_raises_naming_the_file_and_lands_nothing(tmp_path: Path) -> None:
    whole = gzip.compress(_big_prices(5000).encode(), mtime=0)
    path = _file(tmp_path, "p.csv.gz", whole[: len(whole) // 2])
    read = read_prices_csv(path, ticker="A")  # the header still reads fine
    with pytest.raises(UnreadableFile, match="EOFError") as info:
        _land(tmp_path, read)
    assert info.value.path == str(path) and str(path) in str(info.value)
    assert _nothing_landed(tmp_path)


def test_corrupt_gzip_raises_and_lands_nothing(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(_big_prices(5000).encode(), mtime=0))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zeroed block inside the deflate stream
    read = read_prices_csv(_file(tmp_path, "p.csv.gz", bytes(data)), ticker="A")
    with pytest.raises(UnreadableFile):
        _land(tmp_path, read)
    assert _nothing_landed(tmp_path)


def test_not_a_gzip_at_all_behind_the_magic_bytes_is_unreadable(tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv.gz", b"\x1f\x8bthis is not deflate data\n")
    with pytest.raises(UnreadableFile) as info:
        read_prices_csv(path, ticker="A")
    assert info.value.dataset == "prices_daily"


def test_plain_file_cut_mid_line_is_treated_as_truncated(tmp_path: Path) -> None:
    # The cut row still has 7 fields: only the missing end-of-line shows it is incomplete.
    cut = ROW2[:-5]  # "...,58414500\n" cut to "...,5841"
    path = _file(tmp_path, "p.csv", HEADER + ROW1 + cut)
    read = read_prices_csv(path, ticker="A")
    with pytest.raises(UnreadableFile, match="truncated"):
        _land(tmp_path, read)
    assert _nothing_landed(tmp_path)
    relaxed = read_prices_csv(path, ticker="A", require_final_newline=False)
    assert [r["volume"] for r in _drain(relaxed)] == ["82488700", "5841"]


def test_rows_with_missing_or_extra_fields_are_rejected_with_line_and_raw(tmp_path: Path) -> None:
    short, extra = "2024-01-04,1,2,0.5,1.5,10\n", "2024-01-05,1,2,0.5,1.5,1.4,10,999\n"
    read = read_prices_csv(_file(tmp_path, "p.csv", HEADER + ROW1 + short + extra), ticker="A")
    assert [r["line_number"] for r in _drain(read)] == [1]
    assert [(r.line_number, r.rule_id, r.raw_record) for r in read.rejections] == [
        (2, "csv_field_count", short.strip()),
        (3, "csv_field_count", extra.strip()),
    ]
    assert "expected 7 fields" in read.rejections[0].reason
    assert "found 6" in read.rejections[0].reason and "found 8" in read.rejections[1].reason


def test_invalid_utf8_rejects_only_that_line_and_keeps_it_escaped(tmp_path: Path) -> None:
    bad = b"2024-01-03,18\xff4.22,185.88,183.43,184.25,183.55,58414500\n"
    path = _file(tmp_path, "p.csv", HEADER.encode() + ROW1.encode() + bad + ROW2.encode())
    read = read_prices_csv(path, ticker="A")
    assert [r["line_number"] for r in _drain(read)] == [1, 3]
    [rejection] = read.rejections
    assert (rejection.line_number, rejection.rule_id) == (2, "encoding")
    assert rejection.raw_record == "2024-01-03,18\\xff4.22,185.88,183.43,184.25,183.55,58414500"
    assert "0xff" in rejection.reason


def test_unbalanced_quote_rejects_the_line_instead_of_swallowing_the_next(tmp_path: Path) -> None:
    content = HEADER + '2024-01-02,"187.15,188.44,183.89,185.64,184.94,1\n' + ROW2
    read = read_prices_csv(_file(tmp_path, "p.csv", content), ticker="A")
    assert [r["line_number"] for r in _drain(read)] == [2]
    assert [(r.line_number, r.rule_id) for r in read.rejections] == [(1, "csv_quote")]


def test_an_over_long_line_is_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    content = HEADER + ROW1 + "x" * 5000 + "\n" + ROW2
    read = read_prices_csv(_file(tmp_path, "p.csv", content), ticker="A", max_line_bytes=1024)
    assert [r["line_number"] for r in _drain(read)] == [1, 3]
    [rejection] = read.rejections
    assert (rejection.line_number, rejection.rule_id) == (2, "line_too_long")
    assert rejection.raw_record == "x" * 1024


def test_records_can_be_read_only_once(tmp_path: Path) -> None:
    # Landing an already drained reader would commit its rejections without its records.
    read = read_prices_csv(_file(tmp_path, "p.csv", HEADER + ROW1 + "bad\n"), ticker="A")
    assert len(_drain(read)) == 1
    with pytest.raises(IngestError, match="already been read"):
        _land(tmp_path, read)
    assert _nothing_landed(tmp_path)


def test_records_stream_lazily_and_rejections_fill_while_iterating(tmp_path: Path) -> None:
    read = read_prices_csv(_file(tmp_path, "p.csv", HEADER + ROW1 + ROW2 + "bad\n"), ticker="A")
    assert read.rejections == [] and read.stats.lines == 0  # nothing read but the header yet
    first = next(read.records)
    assert first["line_number"] == 1 and read.rejections == [] and read.stats.lines == 1
    rest = list(read.records)
    assert [r["line_number"] for r in rest] == [2] and len(read.rejections) == 1


def test_every_data_line_is_exactly_one_record_or_one_rejection(tmp_path: Path) -> None:
    lines = [
        ROW1,  # 1 record
        "2024-01-03,1,2\n",  # 2 missing fields
        b"2024-01-04,\xc3\x28,2,0.5,1.5,1.4,10\n",  # 3 bad UTF-8
        "\n",  # 4 blank
        ROW2,  # 5 record
        "2024-01-05,1,2,0.5,1.5,1.4,10,extra\n",  # 6 extra field
        'oops,"\n',  # 7 open quote
        ROW2,  # 8 record (a duplicate is silver's business, not the reader's)
    ]
    data = HEADER.encode() + b"".join(x if isinstance(x, bytes) else x.encode() for x in lines)
    read = read_prices_csv(_file(tmp_path, "p.csv", data), ticker="A")
    manifest = _land(tmp_path, read).manifest  # the writer drains .records
    assert (manifest.record_count, manifest.rejected_count) == (3, 4)
    part = tmp_path / "raw" / "prices_daily" / manifest.partition_path / "part-00000.csv"
    record_lines = [int(line.split(",")[0]) for line in part.read_text().splitlines()[1:]]
    rejected_lines = [r.line_number for r in read.rejections]
    assert record_lines == [1, 5, 8] and rejected_lines == [2, 3, 6, 7]
    assert sorted([*record_lines, *rejected_lines, 4]) == list(range(1, len(lines) + 1))
    stats = read.stats
    assert (stats.lines, stats.records, stats.rejected, stats.blank_lines) == (8, 3, 4, 1)
    assert stats.balanced
    rejected_file = (
        tmp_path / "raw" / "rejected_records" / manifest.partition_path / "part-00000.jsonl"
    )
    landed = [json.loads(line) for line in rejected_file.read_text().splitlines()]
    assert [(r["line_number"], r["dataset"]) for r in landed] == [
        (n, "prices_daily") for n in (2, 3, 6, 7)
    ]
    batch_dir = tmp_path / "raw" / "prices_daily" / manifest.partition_path
    assert manifest.original_file is not None
    assert (batch_dir / manifest.original_file).read_bytes() == data  # raw file kept as is


# --- corporate actions -------------------------------------------------------------------------
def test_actions_rows_yield_dividend_and_split_records(tmp_path: Path) -> None:
    content = (
        "Date,Dividends,Stock Splits\n"
        "2020-08-07,0.205,0.0\n"  # 1 dividend only
        "2020-08-31,0.0,4.0\n"  # 2 split only, vendor float notation
        "2021-01-04,0.1,3:2\n"  # 3 both
        "2021-02-01,0,0\n"  # 4 neither
        "2021-03-01,,\n"  # 5 neither (empty)
        "2021-04-01,0.0,1/10\n"  # 6 reverse split
    )
    read = read_corporate_actions_csv(_file(tmp_path, "aapl_actions.csv", content), ticker="AAPL")
    assert read.contract is CORPORATE_ACTIONS
    records = _drain(read)
    assert [(r["line_number"], r["action_type"]) for r in records] == [
        (1, "dividend"),
        (2, "split"),
        (3, "dividend"),
        (3, "split"),
        (6, "split"),
    ]
    assert records[0] == {
        "line_number": 1,
        "ticker": "AAPL",
        "ex_date": "2020-08-07",
        "action_type": "dividend",
        "dividend_amount": "0.205",
    }
    assert [r.get("split_ratio") for r in records if r["action_type"] == "split"] == [
        "4",
        "1.5",
        "0.1",
    ]
    stats = read.stats
    assert (stats.lines_with_records, stats.lines_without_records, stats.records) == (4, 2, 5)
    assert stats.balanced and read.rejections == []


@pytest.mark.parametrize(
    ("text", "ratio"),
    [
        ("2:1", "2"),
        ("2/1", "2"),
        ("2", "2"),
        ("2.0", "2"),
        (" 3 : 2 ", "1.5"),
        ("3:2", "1.5"),
        ("1:10", "0.1"),
        ("10", "10"),
        ("1:3", "0.33333333333333333333"),
        ("0", None),
        ("0.0", None),
        ("", None),
    ],
)
def test_split_notations_normalise_to_new_shares_per_old(text: str, ratio: str | None) -> None:
    assert split_ratio(text) == ratio


@pytest.mark.parametrize("text", ["2:", ":1", "2:0", "0:1", "two", "-2", "NaN", "inf", "2:1:1"])
def test_unreadable_split_notation_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(ValueError):
        split_ratio(text)


def test_unreadable_action_value_rejects_the_whole_line(tmp_path: Path) -> None:
    content = (
        "Ticker,Date,Dividends,Stock Splits\n"
        "AAPL,2020-08-31,0.5,4-for-1\n"
        "AAPL,2020-09-01,n/a,0\n"
        "MSFT,2020-09-02,0.51,0\n"
    )
    read = read_corporate_actions_csv(_file(tmp_path, "a.csv", content))
    assert [(r["line_number"], r["ticker"]) for r in _drain(read)] == [(3, "MSFT")]
    assert [(r.line_number, r.rule_id) for r in read.rejections] == [
        (1, "split_ratio"),
        (2, "dividend_amount"),
    ]
    assert read.rejections[0].raw_record == "AAPL,2020-08-31,0.5,4-for-1"
    assert read.stats.balanced


def test_a_dividends_only_export_is_accepted_and_says_so(tmp_path: Path) -> None:
    read = read_corporate_actions_csv(
        _file(tmp_path, "d.csv", "Date,Dividends\n2024-02-09,0.24\n"), ticker="AAPL"
    )
    assert [r["dividend_amount"] for r in _drain(read)] == ["0.24"]
    assert read.missing_optional_columns == ["Stock Splits"]


def test_actions_without_dividends_or_splits_column_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="neither a Dividends nor a Stock Splits"):
        read_corporate_actions_csv(_file(tmp_path, "a.csv", "Date,Close\n2024-01-02,1\n"), "A")


def test_an_actions_file_without_any_action_lands_nothing(tmp_path: Path) -> None:
    read = read_corporate_actions_csv(
        _file(tmp_path, "a.csv", "Date,Dividends,Stock Splits\n2024-01-02,0,0\n"), ticker="A"
    )
    with pytest.raises(IngestError, match="no records"):
        _land(tmp_path, read)
    assert read.stats.lines_without_records == 1


# --- instruments -------------------------------------------------------------------------------
def test_instruments_accept_symbol_quoted_names_and_report_missing_optional(
    tmp_path: Path,
) -> None:
    content = (
        "Symbol,Name,Sector,Exchange,Listed Date\n"
        'AAPL,"Apple, Inc.",Information Technology,XNAS,1980-12-12\n'
        'BRK.B,"Berkshire ""B""",Financials,XNYS,\n'
    )
    read = read_instruments_csv(_file(tmp_path, "i.csv", content))
    records = _drain(read)
    assert records[0] == {
        "line_number": 1,
        "ticker": "AAPL",
        "name": "Apple, Inc.",
        "sector": "Information Technology",
        "exchange": "XNAS",
        "listed_date": "1980-12-12",
    }
    assert records[1]["name"] == 'Berkshire "B"' and records[1]["listed_date"] == ""
    assert read.missing_optional_columns == ["industry", "delisted_date"]


def test_instruments_without_name_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as info:
        read_instruments_csv(_file(tmp_path, "i.csv", "ticker,sector\nAAPL,IT\n"))
    assert info.value.missing == ("Name",)


# --- news --------------------------------------------------------------------------------------
ARTICLE = {
    "id": 12345,
    "published_at": "2024-01-02T21:05:00Z",
    "headline": "Café ☕ beats",
    "summary": None,
    "source": "wire",
    "url": "https://example.com/a",
    "tickers": "AAPL, MSFT",
    "sentiment_hint": 0.10,
}


def test_news_aliases_tickers_and_numbers_kept_as_delivered_text(tmp_path: Path) -> None:
    second = {
        "article_id": "a2",
        "publishedAt": "2024-01-03T08:00:00+01:00",
        "Headline": "h",
        "publisher": "p",
        "tickers": ["JPM"],
    }
    content = json.dumps(ARTICLE, ensure_ascii=False) + "\n" + json.dumps(second) + "\n"
    read = read_news_jsonl(_file(tmp_path, "news.jsonl", content))
    assert read.contract is NEWS_ARTICLES
    first, other = _drain(read)
    assert first == {
        "line_number": 1,
        "article_id": "12345",
        "published_at": "2024-01-02T21:05:00Z",
        "headline": "Café ☕ beats",
        "summary": None,
        "publisher": "wire",
        "url": "https://example.com/a",
        "tickers": ["AAPL", "MSFT"],
    }
    assert other["tickers"] == ["JPM"] and other["published_at"].endswith("+01:00")
    assert read.ignored_columns == ["sentiment_hint"] and read.rejections == []


def test_news_bad_lines_are_rejected_with_their_rule(tmp_path: Path) -> None:
    good = json.dumps({**ARTICLE, "id": "a1"}).encode() + b"\n"
    lines = [
        good,  # 1
        b'{"id": "a2", "headline": "cut off\n',  # 2 malformed
        b'["not", "an", "object"]\n',  # 3 malformed
        json.dumps({k: v for k, v in ARTICLE.items() if k != "headline"}).encode() + b"\n",  # 4
        b'{"id": "a5", "headline": "caf\xe9"}\n',  # 5 latin-1 byte
        b"\n",  # 6 blank
        json.dumps({**ARTICLE, "tickers": [1, {"x": 2}]}).encode() + b"\n",  # 7 bad tickers
        json.dumps({**ARTICLE, "headline": {"en": "h"}}).encode() + b"\n",  # 8 nested text
        good,  # 9
    ]
    read = read_news_jsonl(_file(tmp_path, "news.jsonl", b"".join(lines)))
    assert [r["line_number"] for r in _drain(read)] == [1, 9]
    assert [(r.line_number, r.rule_id) for r in read.rejections] == [
        (2, "json_malformed"),
        (3, "json_malformed"),
        (4, "json_missing_field"),
        (5, "encoding"),
        (7, "json_field_type"),
        (8, "json_field_type"),
    ]
    assert read.rejections[3].raw_record == '{"id": "a5", "headline": "caf\\xe9"}'
    assert read.stats.balanced and read.stats.blank_lines == 1


def test_news_gzip_and_numbers_that_floats_would_mangle(tmp_path: Path) -> None:
    line = '{"id": 1e400, "published_at": "t", "headline": "h", "source": "s", "tickers": []}\n'
    [record] = _drain(read_news_jsonl(_file(tmp_path, "n.jsonl", line, gz=True)))
    assert record["article_id"] == "1e400" and record["tickers"] == []


def test_news_empty_or_blank_file_is_a_typed_error(tmp_path: Path) -> None:
    for content in ("", "\n\n"):
        with pytest.raises(EmptyDelivery):
            read_news_jsonl(_file(tmp_path, "n.jsonl", content))


def test_news_truncated_last_line_lands_nothing(tmp_path: Path) -> None:
    content = json.dumps({**ARTICLE, "id": "a1"}) + '\n{"id": "a2", "headl'
    read = read_news_jsonl(_file(tmp_path, "n.jsonl", content))
    with pytest.raises(UnreadableFile):
        _land(tmp_path, read, source="news")
    assert _nothing_landed(tmp_path)


def test_news_lands_in_bronze_with_its_list_column(tmp_path: Path) -> None:
    read = read_news_jsonl(_file(tmp_path, "n.jsonl", json.dumps(ARTICLE) + "\n"))
    manifest = _land(tmp_path, read, source="news").manifest
    part = tmp_path / "raw" / "news_articles" / manifest.partition_path / "part-00000.jsonl"
    assert json.loads(part.read_text())["tickers"] == ["AAPL", "MSFT"]
    assert manifest.record_count == 1
