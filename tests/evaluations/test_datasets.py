import pytest

from core.problems import Invalid
from evaluations.datasets import MAX_BYTES, MAX_ROWS, parse_dataset
from evaluations.models import Dataset
from evaluations.services.datasets import dataset_create


def errors_of(**kwargs) -> list[tuple[tuple, str]]:
    with pytest.raises(Invalid) as caught:
        parse_dataset(**kwargs)
    return [(error.loc, error.message) for error in caught.value.errors]


def test_csv_gives_columns_and_rows_numbered_from_one():
    parsed = parse_dataset(text='question,expected\n"Hi, there",hello\nBye,"multi\nline"\n', format="csv")
    assert parsed.columns == ["question", "expected"]
    assert parsed.rows == [
        {"question": "Hi, there", "expected": "hello"},
        {"question": "Bye", "expected": "multi\nline"},
    ]


def test_csv_empty_cells_are_kept_as_empty_text():
    # Spreadsheets export optional columns with empty cells; only a variable a prompt uses must have a value, and
    # that is checked when an evaluation starts (tests/evaluations/test_services.py).
    parsed = parse_dataset(text="question,expected,notes\nA,1,\n,3,x\n", format="csv")
    assert parsed.rows == [
        {"question": "A", "expected": "1", "notes": ""},
        {"question": "", "expected": "3", "notes": "x"},
    ]


def test_csv_row_with_the_wrong_number_of_values():
    errors = errors_of(text="question,expected\nA,1\nB,2,extra\n", format="csv")
    assert errors == [(("rows", 2), "row 2 (line 3): has 3 values but the header has 2 columns.")]


def test_csv_header_problems_are_reported_per_column():
    errors = errors_of(text="question,question,my answer,\nA,B,C,D\n", format="csv")
    messages = [message for _, message in errors]
    assert "The header row: column 'question' appears twice." in messages
    assert any("column 'my answer' is not a variable name" in message for message in messages)
    assert "The header row: column 4 has no name." in messages


def test_csv_with_only_a_header_has_no_rows():
    assert errors_of(text="question\n", format="csv") == [(("rows",), "The CSV has a header row but no data rows.")]


def test_blank_lines_are_not_rows_and_a_bom_is_dropped():
    parsed = parse_dataset(text="\ufeffquestion\nA\n\n\nB\n", format="csv")
    assert parsed.columns == ["question"]
    assert [row["question"] for row in parsed.rows] == ["A", "B"]


def test_jsonl_rows_numbers_and_booleans_become_text():
    parsed = parse_dataset(text='{"q": "A", "n": 1.5, "ok": true}\n\n{"q": "B", "n": 2, "ok": false}\n', format="jsonl")
    assert parsed.columns == ["q", "n", "ok"]
    assert parsed.rows[1] == {"q": "B", "n": "2", "ok": "false"}


def test_jsonl_bad_json_on_a_line_names_row_and_line():
    errors = errors_of(text='{"q": "A"}\n\n{"q": "B",}\n', format="jsonl")
    assert errors == [
        (("rows", 2), "row 2 (line 3): not valid JSON: Expecting property name enclosed in double quotes at column 11.")
    ]


def test_jsonl_inconsistent_columns():
    errors = errors_of(text='{"q": "A", "answer": "x"}\n{"q": "B", "answr": "y"}\n', format="jsonl")
    assert errors == [
        (("rows", 2), "row 2 (line 2): its columns differ from row 1's: missing 'answer'; unexpected 'answr'.")
    ]


def test_jsonl_lines_must_be_objects():
    errors = errors_of(text='{"q": ["A"]}\n[1, 2]\n{"q": null}\n', format="jsonl")
    assert errors == [(("rows", 2), "row 2 (line 2): must be a JSON object of column names to values.")]


def test_jsonl_keeps_nested_values_nulls_and_empty_strings():
    text = '{"q": {"text": "Hi", "choices": ["a", 2]}, "n": 1.5, "ok": true, "note": null, "e": ""}\n'
    parsed = parse_dataset(text=text, format="jsonl")
    assert parsed.rows == [
        {"q": {"text": "Hi", "choices": ["a", 2]}, "n": "1.5", "ok": "true", "note": None, "e": ""},
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"q": NaN}', "NaN is not a JSON number"),
        ('{"q": {"deep": 1e999}}', "the number 1e999 is out of range"),
        ('{"q": {"a": "x\\u0000y"}}', "contains a NUL character"),
        ('{"q": {"\\ud800": 1}}', "contains a NUL character or an unpaired surrogate"),
        ('{"q": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_jsonl_values_no_database_can_store_are_refused_in_place(line, problem):
    errors = errors_of(text=line + "\n", format="jsonl")
    assert len(errors) == 1 and errors[0][0][:2] == ("rows", 1)
    assert problem in errors[0][1]


def test_jsonl_lines_are_split_on_line_feeds_only():
    # JSON Lines (jsonlines.org) ends lines in \n or \r\n; U+2028, U+0085 and form feeds may stand unescaped inside a
    # JSON string, and str.splitlines() would cut the line there.
    text = '{"q": "a\u2028b\u2029c\x85d"}\r\n{"q": "e"}\r\n'
    parsed = parse_dataset(text=text, format="jsonl")
    assert parsed.rows == [{"q": "a\u2028b\u2029c\x85d"}, {"q": "e"}]


@pytest.mark.parametrize(
    ("text", "file_name", "delimiter"),
    [
        ("question;expected\nHallo, Welt;1,5\n", "", ";"),
        ("question\texpected\nHi, there;x\t1|2\n", "", "\t"),
        ("question|expected\nA;B,C|1\n", "", "|"),
        ('question,expected\n"A;B|C",1\n', "", ","),
        ("question\texpected\nA,B;C|D\t1\n", "export.tsv", "\t"),
    ],
)
def test_the_csv_delimiter_is_detected_from_the_header_row(text, file_name, delimiter):
    parsed = parse_dataset(text=text, format="csv", file_name=file_name)
    assert parsed.delimiter == delimiter
    assert parsed.columns == ["question", "expected"]
    assert len(parsed.rows) == 1 and parsed.rows[0]["expected"] in ("1", "1,5", "1|2")


def test_a_single_column_csv_has_no_delimiter_to_find():
    parsed = parse_dataset(text='question\nA, B; C\n"quoted, still one"\n', format="csv")
    assert parsed.delimiter is None
    assert parsed.columns == ["question"]
    assert parsed.rows == [{"question": "A, B; C"}, {"question": "quoted, still one"}]


def test_jsonl_nul_characters_are_refused():
    errors = errors_of(text='{"q": "a\\u0000b"}\n', format="jsonl")
    assert errors[0][0] == ("rows", 1, "q")


def test_the_format_is_detected_from_the_file_name_or_content():
    assert parse_dataset(text='{"q": "A"}\n', file_name="data.jsonl").format == "jsonl"
    assert parse_dataset(text='{"q": "A"}\n').format == "jsonl"
    assert parse_dataset(text="q\nA\n").format == "csv"


def test_too_many_rows():
    errors = errors_of(text="q\n" + "x\n" * (MAX_ROWS + 1), format="csv")
    assert errors == [(("rows",), f"More than {MAX_ROWS} rows; split the dataset.")]


def test_errors_are_capped_with_a_count_of_the_rest():
    errors = errors_of(text="q,r\n" + "a,b,c\n" * 80, format="csv")
    assert len(errors) == 51
    assert errors[-1] == (("file",), "… and 30 more problem(s).")


def test_non_utf8_bytes_are_an_encoding_error(org, admin_user):
    with pytest.raises(Invalid) as caught:
        dataset_create(organization=org, user=admin_user, name="latin", data="question\ncafé\n".encode("latin-1"))
    (error,) = caught.value.errors
    assert error.loc == ("file",)
    assert error.message.startswith("The file is not UTF-8 text (byte 13, line 2)")


def test_too_large_upload(org, admin_user):
    with pytest.raises(Invalid) as caught:
        dataset_create(organization=org, user=admin_user, name="big", data=b"q\n" + b"x" * MAX_BYTES)
    assert caught.value.errors[0].type == "too_large"


def test_dataset_create_stores_rows_in_order(org, admin_user):
    dataset = dataset_create(
        organization=org, user=admin_user, name="", text="question,expected\nA,1\nB,2\n", file_name="sums.csv"
    )
    assert dataset.name == "sums.csv"
    assert (dataset.columns, dataset.row_count, dataset.source_format) == (["question", "expected"], 2, "csv")
    assert list(dataset.rows.values_list("index", "values")) == [
        (1, {"question": "A", "expected": "1"}),
        (2, {"question": "B", "expected": "2"}),
    ]


def test_an_invalid_dataset_saves_nothing(org, admin_user):
    with pytest.raises(Invalid):
        dataset_create(organization=org, user=admin_user, name="bad", text='q\nA\n"unterminated\n')
    assert not Dataset.objects.exists()
