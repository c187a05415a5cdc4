"""Check digits of the two national codes that key the registries.

>>> corporate_number_check_digit("000011000005")
1
>>> is_valid_corporate_number("1000011000005")
True
>>> is_valid_corporate_number("2000011000005")
False
>>> local_government_code("13101")
'131016'
>>> is_valid_local_government_code("011002")
True
"""

from __future__ import annotations


def corporate_number_check_digit(base12: str) -> int:
    """NTA 法人番号: C = 9 - (sum of P_n*Q_n mod 9), n counted from the right, Q = 1 odd, 2 even."""
    if len(base12) != 12 or not base12.isdigit() or not base12.isascii():
        raise ValueError(f"base number must be 12 ASCII digits, got {base12!r}")
    total = 0
    for n in range(1, 13):
        total += int(base12[-n]) * (1 if n % 2 else 2)
    return 9 - total % 9


def corporate_number_problem(number: str) -> str | None:
    """Why ``number`` is not a valid corporate number, or None when it is."""
    if len(number) != 13 or not number.isdigit() or not number.isascii():
        return f"corporate number must be 13 ASCII digits, got {number!r}"
    expected = corporate_number_check_digit(number[1:])
    if int(number[0]) != expected:
        return f"corporate number {number} has check digit {number[0]}, expected {expected}"
    return None


def is_valid_corporate_number(number: str) -> bool:
    return corporate_number_problem(number) is None


def local_government_check_digit(code5: str) -> int:
    """全国地方公共団体コード: C = (11 - (6,5,4,3,2-weighted sum mod 11)) mod 10."""
    if len(code5) != 5 or not code5.isdigit() or not code5.isascii():
        raise ValueError(f"local government code needs 5 ASCII digits, got {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return (11 - total % 11) % 10


def local_government_code(code5: str) -> str:
    """The 6-digit lg_code of a 5-digit code (prefecture 2 + city 3)."""
    return code5 + str(local_government_check_digit(code5))


def local_government_code_problem(code6: str) -> str | None:
    if len(code6) != 6 or not code6.isdigit() or not code6.isascii():
        return f"local government code must be 6 ASCII digits, got {code6!r}"
    expected = local_government_check_digit(code6[:5])
    if int(code6[5]) != expected:
        return f"local government code {code6} has check digit {code6[5]}, expected {expected}"
    return None


def is_valid_local_government_code(code6: str) -> bool:
    return local_government_code_problem(code6) is None
