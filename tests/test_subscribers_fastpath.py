"""The fast path agrees with email-validator: whenever it answers, the answer is the
library's own normalised address; and ``check_address`` accepts exactly what the
library accepts. Property tests on address-like strings built to hit the edges
(case, dots, hyphens, Punycode, special-use names, Unicode, lengths at the
limits), plus every short string over the characters that matter.

``FASTPATH_EXAMPLES=50000 python -m pytest tests/test_subscribers_fastpath.py`` runs a
longer search than the quick default.
"""

from __future__ import annotations

import itertools
import os

from email_validator import EmailNotValidError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience.validate import Address, check_address, fast_path, library_normalize

EXAMPLES = int(os.environ.get("FASTPATH_EXAMPLES", "700"))


def library(address: str) -> str | None:
    try:
        return library_normalize(address)
    except EmailNotValidError:
        return None


ATEXT = "abcxyzABCXYZ0129!#$%&'*+/=?^_`{|}~-"
ODD = ' "(),:;<>@[\\]\t\x00\x7fé\u0301\u200bü'
local_char = st.one_of(st.sampled_from(ATEXT), st.just("."), st.sampled_from(ODD))
plain_local = st.text(alphabet=ATEXT, min_size=1, max_size=12)
dotted_local = st.lists(plain_local, min_size=1, max_size=4).map(".".join)
messy_local = st.text(alphabet=local_char, min_size=0, max_size=20)
long_local = st.integers(min_value=50, max_value=250).map(lambda n: "a" * n)
roles = st.sampled_from(["info", "INFO", "Support", "postmaster", "Webmaster", "news", "NOC", "infos"])
local = st.one_of(dotted_local, dotted_local, messy_local, long_local, roles)

label_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
label = st.one_of(
    st.text(alphabet=label_chars, min_size=1, max_size=10),
    st.integers(min_value=60, max_value=66).map(lambda n: "b" * n),
    st.sampled_from(["xn--bcher-kva", "xn--zz", "ab--cd", "a-", "-a", "bücher", "ｅｘａｍｐｌｅ", "ß", "_x", ""]),
)
tld = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6),
    st.sampled_from(["local", "LOCAL", "test", "localhost", "onion", "arpa", "invalid", "com1", "c0m", "xn--p1ai", "рф"]),
)
domain = st.one_of(
    st.builds(lambda labels, t: ".".join([*labels, t]), st.lists(label, min_size=0, max_size=4), tld),
    st.builds(
        lambda labels, t, sep: sep.join([*labels, t]),
        st.lists(label, min_size=1, max_size=3),
        tld,
        st.sampled_from(["。", "..", ".", "．"]),
    ),
    st.text(alphabet=label_chars + ".@[]:", min_size=0, max_size=30),
)
address = st.one_of(
    st.builds(lambda lo, d: f"{lo}@{d}", local, domain),
    st.builds(lambda lo, d, e: f"{lo}@{d}{e}", local, domain, st.sampled_from([".", " ", "@x.org", ">", "\n"])),
    st.text(max_size=40),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address)
def test_fast_path_never_disagrees_with_the_library(addr: str) -> None:
    answer = fast_path(addr)
    if answer is not None:
        assert library(addr) == answer
        assert fast_path(addr) == answer  # the per-domain memo gives the same answer again


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address)
def test_check_address_accepts_exactly_what_the_library_accepts(addr: str) -> None:
    checked = check_address(addr)
    if "\n" in addr or "\r" in addr:
        assert not isinstance(checked, Address)
        return
    expected = library(addr.strip())
    if expected is None:
        assert not isinstance(checked, Address)
        try:
            library_normalize(addr.strip())
        except EmailNotValidError as exc:
            assert checked in (str(exc), "the email is empty")
    else:
        assert isinstance(checked, Address)
        assert checked.normalized == expected
        assert checked.key == expected.casefold()


def test_every_short_string_over_the_characters_that_matter() -> None:
    alphabet = "aZ1.-@"
    answered = 0
    for n in range(1, 7):
        for chars in itertools.product(alphabet, repeat=n):
            addr = "".join(chars)
            answer = fast_path(addr)
            if answer is not None:
                answered += 1
                assert library(addr) == answer, addr
            else:
                # The fast path may pass only what it cannot judge cheaply; for these
                # characters that is only what the library rejects, or a special case.
                ok = library(addr)
                assert ok is None or "--" in addr, addr
    assert answered > 200


def test_the_fast_path_covers_ordinary_addresses() -> None:
    ordinary = [
        "amina.okafor@example.org",
        "Ben.Hughes+news@Mail.Example.CO.UK",
        "x_y-z@sub-domain.example.com",
        "o'neil@example.ie",
        "Info@Example.org",
        "zoë@bücher.example",  # Unicode local part: left to the library
        "a@xn--bcher-kva.example",
    ]
    answers = {a: fast_path(a) for a in ordinary}
    assert answers["Info@Example.org"] == "info@example.org"
    assert answers["Ben.Hughes+news@Mail.Example.CO.UK"] == "Ben.Hughes+news@mail.example.co.uk"
    assert answers["a@xn--bcher-kva.example"] == "a@bücher.example"
    assert answers["zoë@bücher.example"] is None
    assert sum(v is not None for v in answers.values()) == 6
