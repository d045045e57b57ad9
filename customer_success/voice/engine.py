"""The customer's voice: the pure NPS maths and the survey link's rules.

Plain data in, plain data out; never imports frappe. The answer form, the health factor, the
alert rules and the NPS Trend report all call these, so a score is classified and an NPS is
computed in one place.
"""

import hashlib
import secrets
from datetime import date

from customer_success.numbers import is_number, round2

PROMOTER, PASSIVE, DETRACTOR = "Promoter", "Passive", "Detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
MIN_SCORE, MAX_SCORE = 0, 10

# The invitation of one contact, and what the answer page makes of its link.
PENDING, ANSWERED, EXPIRED = "Pending", "Answered", "Expired"
INVITATION_STATES = (PENDING, ANSWERED, EXPIRED)
LINK_OK, LINK_USED, LINK_EXPIRED, LINK_UNKNOWN = "ok", "used", "expired", "unknown"

TOKEN_BYTES = 32


def is_valid_score(score) -> bool:
	"""A whole number from 0 to 10 (a bool, a fraction or text is not a score)."""
	if not is_number(score) or isinstance(score, str):
		return False
	value = float(score)
	return value.is_integer() and MIN_SCORE <= value <= MAX_SCORE


def parse_score(value) -> int | None:
	"""What a form sent as the score: an int 0..10, or None when it is not one ("7" is 7)."""
	if isinstance(value, str):
		text = value.strip()
		if not text.lstrip("-").isdigit():
			return None
		value = int(text)
	return int(value) if is_valid_score(value) else None


def category(score) -> str | None:
	"""Promoter 9-10, Passive 7-8, Detractor 0-6; None for anything that is not a score."""
	if not is_valid_score(score):
		return None
	value = int(score)
	if value >= 9:
		return PROMOTER
	if value >= 7:
		return PASSIVE
	return DETRACTOR


def nps(counts: dict) -> float | None:
	"""% promoters - % detractors of the answers counted ({category: count}); None without answers."""
	promoters = int(counts.get(PROMOTER) or 0)
	passives = int(counts.get(PASSIVE) or 0)
	detractors = int(counts.get(DETRACTOR) or 0)
	total = promoters + passives + detractors
	if total <= 0:
		return None
	return round2(100.0 * (promoters - detractors) / total)


def nps_of_scores(scores) -> float | None:
	"""The NPS of a list of 0-10 scores (what is not a score is left out)."""
	counts: dict[str, int] = {}
	for score in scores:
		kind = category(score)
		if kind:
			counts[kind] = counts.get(kind, 0) + 1
	return nps(counts)


def nps_table(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
	"""Group rows of {*keys, category, count} and give each group its counts and NPS.

	The report's rows come from one GROUP BY query; this sums them per group (a period, a tier,
	a CSM) and computes the score, in the order the groups first appear.
	"""
	groups: dict[tuple, dict] = {}
	for row in rows:
		key = tuple(row.get(k) for k in keys)
		group = groups.setdefault(
			key, {**dict(zip(keys, key, strict=True)), PROMOTER: 0, PASSIVE: 0, DETRACTOR: 0}
		)
		if row.get("category") in CATEGORIES:
			group[row["category"]] += int(row.get("count") or 0)
	result = []
	for group in groups.values():
		total = group[PROMOTER] + group[PASSIVE] + group[DETRACTOR]
		result.append(
			{
				**{k: group[k] for k in keys},
				"promoters": group[PROMOTER],
				"passives": group[PASSIVE],
				"detractors": group[DETRACTOR],
				"responses": total,
				"nps": nps(group),
			}
		)
	return result


# --- the survey link ---------------------------------------------------------------------------


def new_token() -> str:
	"""A personal link's secret: 256 random bits, URL-safe. Only its hash is stored."""
	return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
	"""SHA-256 of the token: a leaked table of hashes opens no survey."""
	return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def looks_like_token(token) -> bool:
	"""A token we could have made: URL-safe base64 of the right length (anything else is unknown)."""
	if not isinstance(token, str) or not (32 <= len(token) <= 64):
		return False
	return all(c.isalnum() or c in "-_" for c in token)


def link_state(invitation: dict | None, today: date) -> str:
	"""What the answer page does with a link: answer it, or say it was used, expired or unknown.

	`invitation`: the contact's row ({state, expires_on}) found by the token's hash, or None.
	The link works up to and including its expiry date.
	"""
	if not invitation:
		return LINK_UNKNOWN
	if invitation.get("state") == ANSWERED:
		return LINK_USED
	expires_on = invitation.get("expires_on")
	if invitation.get("state") == EXPIRED or (expires_on is not None and today > expires_on):
		return LINK_EXPIRED
	return LINK_OK
