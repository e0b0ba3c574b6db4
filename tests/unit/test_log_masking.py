"""Personal identifiers never leave a process in a log line (security issue 14).

The attack: an identifier written where the old word-boundary patterns did not see it —
touching Chinese text ("身份证号430102199001011234有误"), after `_`, glued to other digits,
inside a free-text reason (a department's rejection, a dead-letter reason, an exception).
Driven by hypothesis over arbitrary surrounding text; the rule for neighbouring digits is
documented in onestop/common/logs.py.
"""

import json
import logging
import string

from hypothesis import example, given, settings, strategies as st

from onestop.common.logs import JsonFormatter, mask

PERSON_IDS = st.builds(
    lambda digits, check: digits + check,
    st.text(string.digits, min_size=17, max_size=17),
    st.sampled_from(list(string.digits) + ["X", "x"]),
)
MOBILES = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(string.digits, min_size=9, max_size=9),
)
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODES = st.builds(
    lambda a, b, c: a + b + c,
    st.text(CODE_CHARS, min_size=2, max_size=2),
    st.text(string.digits, min_size=6, max_size=6),
    st.text(CODE_CHARS, min_size=10, max_size=10),
)
CHINESE = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=8)
# anything: Chinese, `_`, digits, letters, punctuation, any other Unicode
SURROUNDING = st.one_of(
    st.text(max_size=30), CHINESE, st.text("_" + string.digits + "中文号码身份证", max_size=30)
)
# what separates an identifier from neighbouring digits: never a digit, capital or X
SEPARATORS = st.text("_ -:;,.，。：（）abcxyz" + "申请人身份证号码有误", min_size=1, max_size=4)


def log_line(message, *args, exc=None):
    record = logging.LogRecord(
        "onestop.test",
        logging.WARNING,
        __file__,
        1,
        message,
        args,
        (type(exc), exc, None) if exc else None,
    )
    line = JsonFormatter("test").format(record)
    json.loads(line)
    return line


@settings(max_examples=300, deadline=None)
@given(PERSON_IDS, SURROUNDING, SURROUNDING)
@example("430102199001011234", "身份证号", "有误")
@example("430102199001011234", "id_", "_x")
@example("430102199001011234", "7", "8")
@example("43010219900101123X", "申请人", "X")
def test_a_resident_id_number_never_appears_whole_wherever_it_stands(person_id, before, after):
    text = before + person_id + after
    assert person_id not in log_line(text)
    assert person_id not in log_line("rejected: %s", text)  # a free-text reason
    assert person_id not in log_line("handler failed", exc=ValueError(text))


@settings(max_examples=300, deadline=None)
@given(
    PERSON_IDS,
    st.text(string.digits, max_size=10),
    SEPARATORS,
    SEPARATORS,
    st.text(string.digits, max_size=10),
)
def test_digits_apart_from_the_number_are_kept_and_the_number_keeps_3_and_2(
    person_id, digits_before, sep_before, sep_after, digits_after
):
    before, after = digits_before + sep_before, sep_after + digits_after
    assert mask(before + person_id + after) == (
        before + person_id[:3] + "*" * 13 + person_id[-2:] + after
    )


def test_digits_glued_to_a_number_are_masked_with_it_as_one_run():
    assert mask("单号12430102199001011234") == "单号124" + "*" * 15 + "34"
    assert mask("430102199001011234X") == "430" + "*" * 13 + "34X"  # 18 digits: X is not its
    assert mask("4301021990010112") == "4301021990010112"  # 16 digits: no ID number


@settings(max_examples=200, deadline=None)
@given(
    MOBILES,
    SURROUNDING.filter(lambda s: not s[-1:].isdigit()),
    SURROUNDING.filter(lambda s: not s[:1].isdigit()),
)
@example("13912345678", "电话", "联系")
@example("13912345678", "phone_", "_x")
@example("13912345678", "+86", "")
def test_a_mobile_number_of_its_own_never_appears_whole(mobile, before, after):
    assert mobile not in log_line("contact %s", before + mobile + after)


@settings(max_examples=200, deadline=None)
@given(CREDIT_CODES, SURROUNDING, SURROUNDING)
@example("91430100MA4L0XXX1Y", "统一社会信用代码", "。")
@example("91430100MA4L0XXX1Y", "USCC", "_")
def test_a_credit_code_never_appears_whole_wherever_it_stands(code, before, after):
    assert code not in log_line(before + code + after)


def test_timestamps_and_short_numbers_are_left_readable():
    for text in ("took 1733219096123 ms", "task 42 of 430102", "port 27018", "2026-12-03"):
        assert mask(text) == text
