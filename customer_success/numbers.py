"""Small numeric helpers shared by the engine modules."""

import math
from decimal import ROUND_HALF_UP, Decimal


def clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
	return max(low, min(high, value))


def is_number(value) -> bool:
	"""A finite number, or text holding one (a bool is not one). An int too large for a float (a JSON
	number of hundreds of digits) is not one either: no column holds it."""
	kind = type(value)
	try:
		if kind is float or kind is int:  # the usual case, first (a bool is neither)
			return math.isfinite(value)
		if isinstance(value, bool) or value is None:
			return False
		return math.isfinite(float(value))
	except (TypeError, ValueError, OverflowError):
		return False


def linear(value: float, best: float, worst: float) -> float:
	"""Map `value` to 100 at `best` and 0 at `worst` (either order), clamped to 0..100."""
	if best == worst:
		return 100.0 if value == best else 0.0
	return clamp(100.0 * (value - worst) / (best - worst))


def round2(value: float) -> float:
	return round(value + 0.0, 2)


def round_half_up2(value: float) -> float:
	"""Two places with a half rounded up, as a reader rounds the number shown (87.645 is 87.65):
	`round` works on the binary value, 87.64499…, and gives 87.64. For figures a report shows, not
	the scores (their rounding is the engine's, kept as it is)."""
	return float(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
