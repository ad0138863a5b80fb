"""Money is stored as integer paise and shown to the API as rupees, exactly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import overload

from homer_rt.errors import BadRequest

PAISE_PER_RUPEE = 100


def rupees_to_paise(value: int | float | str | Decimal, *, field: str = "amount") -> int:
    """Convert a rupee amount to paise without binary-float rounding; more than 2 decimals is refused."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BadRequest(f"{field} must be a number of rupees") from exc
    if not amount.is_finite():
        raise BadRequest(f"{field} must be a finite number of rupees")
    paise = amount * PAISE_PER_RUPEE
    if paise != paise.to_integral_value():
        raise BadRequest(f"{field} may have at most 2 decimal places")
    return int(paise)


@overload
def paise_to_rupees(paise: int) -> int | float: ...
@overload
def paise_to_rupees(paise: None) -> None: ...
@overload
def paise_to_rupees(paise: int | None) -> int | float | None: ...
def paise_to_rupees(paise: int | None) -> int | float | None:
    """Whole rupees stay integers in JSON (750, not 750.0); fractions become exact two-place decimals."""
    if paise is None:
        return None
    if paise % PAISE_PER_RUPEE == 0:
        return paise // PAISE_PER_RUPEE
    return float(Decimal(paise) / PAISE_PER_RUPEE)
