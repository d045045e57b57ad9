"""When the CSM e-mail digest goes out and what period it covers. Pure: no frappe."""

from datetime import datetime, timedelta

OFF, DAILY, WEEKLY = "Off", "Daily", "Weekly"
FREQUENCIES = (OFF, DAILY, WEEKLY)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PERIOD_DAYS = {DAILY: 1, WEEKLY: 7}
SEVERITY_RANK = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}


def due_on(frequency: str | None, weekday: str | None, day) -> bool:
	"""Whether a digest goes out on `day` (a date): every day, or on the weekly one's day (Monday
	unless set). Off, or anything else, never."""
	if frequency == DAILY:
		return True
	if frequency == WEEKLY:
		return WEEKDAYS[day.weekday()] == (weekday if weekday in WEEKDAYS else WEEKDAYS[0])
	return False


# A digest after a long pause (switched off, a person back from leave) lists at most this far back.
MAX_GAP_DAYS = 31


def covers_from(frequency: str, last_sent: datetime | None, now: datetime) -> datetime:
	"""The instant the digest's "new" items start: the last digest sent to the person, so nothing
	raised between two digests is missed however late the next one runs (a job run late, one sent
	by hand); at most `MAX_GAP_DAYS` back. A first digest covers one period."""
	if last_sent:
		return max(last_sent, now - timedelta(days=MAX_GAP_DAYS))
	return now - timedelta(days=PERIOD_DAYS.get(frequency, 7))


def sent_today(last_sent: datetime | None, now: datetime) -> bool:
	"""A second run on the same day (a retried or doubled job) sends nobody a second digest."""
	return bool(last_sent) and last_sent.date() == now.date()


def worst_first(alerts: list[dict], limit: int) -> list[dict]:
	"""The alerts to list: the most severe first, then the newest."""
	ordered = sorted(alerts, key=lambda a: a["creation"], reverse=True)
	ordered.sort(key=lambda a: SEVERITY_RANK.get(a.get("severity"), len(SEVERITY_RANK)))
	return ordered[:limit]


def overdue_items(row: dict) -> int:
	return (
		int(row.get("overdue_milestones") or 0)
		+ int(row.get("overdue_checkins") or 0)
		+ int(row.get("overdue_alert_tasks") or 0)
	)
