import doctest

import pytest

import importlib
import pkgutil

import kg
import kg.rdf.checkdigits as cd

MODULES = sorted(m.name for m in pkgutil.walk_packages(kg.__path__, "kg.") if not m.name.startswith("kg.samples"))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    """Every module's examples run as written (the docstrings are the reference of the small APIs)."""
    failures, _ = doctest.testmod(importlib.import_module(name))
    assert failures == 0, name


@pytest.mark.parametrize("number", ["1000011000005", "7000012050002", "1130001011420", "8700110005901",
                                    "9000020011002", "1040001042029", "5010401092060"])
def test_real_corporate_numbers_are_valid(number):
    assert cd.is_valid_corporate_number(number)


@pytest.mark.parametrize("number,reason", [
    ("2000011000005", "check digit 2, expected 1"),
    ("100001100000", "13 ASCII digits"),
    ("１000011000005", "13 ASCII digits"),
    ("10000110000A5", "13 ASCII digits"),
])
def test_invalid_corporate_numbers_say_why(number, reason):
    assert reason in cd.corporate_number_problem(number)


@pytest.mark.parametrize("code5,code6", [("13000", "130001"), ("01100", "011002"), ("13101", "131016"),
                                         ("18207", "182079"), ("30201", "302015"), ("46505", "465054")])
def test_local_government_codes(code5, code6):
    assert cd.local_government_code(code5) == code6
    assert cd.is_valid_local_government_code(code6)
    wrong = code6[:5] + str((int(code6[5]) + 1) % 10)
    assert "expected" in cd.local_government_code_problem(wrong)
