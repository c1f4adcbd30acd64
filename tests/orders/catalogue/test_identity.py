"""What is a key: placeholders a clerk or a form types for "none given" are nobody's."""

from __future__ import annotations

import pytest

from orders.catalogue.identity import name_parts, names_differ, normalise_email, normalise_phone


@pytest.mark.parametrize(
    "value",
    [
        "noemail@example.com", "NoEmail@Example.com ", "no.email@gmail.com", "no-email@store.com", "none@none.com",
        "no-reply@shop.example", "noreply+1@example.org", "donotreply@acme.com", "declined@x.co", "na@na.com",
        "unknown@unknown.com", "walk-in@store.com", "xxx@xxx.com", "0000@gmail.com", "test@example.com",
        "customer@example.net", "dummy@test.example", "guest@example.org", "bob@host.invalid", "ann@localhost.localhost",
        "a@b", "ann lee@example.com", "@example.com", "ann@", "not an address", "",
    ],
)  # fmt: skip
def test_placeholder_and_malformed_e_mails_are_no_key(value):
    assert normalise_email(value) == ""


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (" Ann@Example.com ", "ann@example.com"),
        ("a@example.com", "a@example.com"),  # a short address at a documentation domain is still someone's
        ("ann+orders@example.com", "ann+orders@example.com"),
        ("gp@putnam.example", "gp@putnam.example"),
        ("test.kitchen@gmail.com", "test.kitchen@gmail.com"),  # "test" is a stand-in at example.com only
        ("nora@none.example", "nora@none.example"),
    ],
)
def test_real_e_mails_stay_keys(value, key):
    assert normalise_email(value) == key


@pytest.mark.parametrize(
    "value",
    ["0000000000", "000-000-0000", "+10000000000", "5555555555", "1111111111", "123-456-7890", "9999999999",
     "+447777777777", "+44 1234 567890", "12345", "call me", ""],
)  # fmt: skip
def test_invalid_and_placeholder_phones_are_no_key(value):
    assert normalise_phone(value) == ""


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("+1-212-555-4240", "+12125554240"),
        ("(212) 555-4240", "+12125554240"),
        ("+12125550147", "+12125550147"),
        ("+44 20 7183 8750", "+442071838750"),
    ],
)
def test_valid_phones_are_e164_keys(value, key):
    assert normalise_phone(value) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [("Ann Lee", "Ann B. Lee"), ("A. Lee", "Ann Lee"), ("Zoë Müller", "Zoe Muller"), ("Lee, Ann", "ann lee"),
     ("Ann", "Ann Lee"), ("", "George Putnam"), ("Dr. Ann Lee", "Ann Lee")],
)  # fmt: skip
def test_names_that_may_be_one_person(a, b):
    assert not names_differ(a, b)
    assert not names_differ(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Amelia Earhart", "George Putnam"), ("Amelia Earhart", "George Earhart"), ("Ann Lee", "Ann Stone"),
     ("Bob Stone", "Robert Stone")],
)  # fmt: skip
def test_names_that_are_two_people(a, b):
    assert names_differ(a, b)
    assert names_differ(b, a)


def test_name_parts_reads_family_first_with_a_comma():
    assert name_parts("Earhart, Amelia") == ("amelia", "earhart")
    assert name_parts("Mrs Amelia Mary Earhart") == ("amelia", "earhart")
