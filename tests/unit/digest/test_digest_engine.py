from datetime import date, datetime, timedelta

from customer_success.customer_success import digest_engine as engine


def test_daily_goes_out_every_day_weekly_on_its_day():
	monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
	assert engine.due_on("Daily", None, monday) and engine.due_on("Daily", "Friday", tuesday)
	assert engine.due_on("Weekly", "Monday", monday)
	assert not engine.due_on("Weekly", "Monday", tuesday)
	assert engine.due_on("Weekly", "Tuesday", tuesday)
	# no day set, or a day that is none: Monday
	assert engine.due_on("Weekly", None, monday) and engine.due_on("Weekly", "Someday", monday)
	assert not engine.due_on("Weekly", None, tuesday)
	for day in (monday, tuesday):
		assert not engine.due_on("Off", "Monday", day)
		assert not engine.due_on(None, None, day)


def test_covers_since_the_last_digest_a_first_one_a_period():
	now = datetime(2026, 12, 7, 7, 0)
	assert engine.covers_from("Weekly", None, now) == now - timedelta(days=7)
	assert engine.covers_from("Daily", None, now) == now - timedelta(days=1)
	last = now - timedelta(days=3)
	assert engine.covers_from("Weekly", last, now) == last
	# the next daily digest ran late: nothing raised since the last one is missed (tester R)
	late = now - timedelta(days=1, minutes=29)
	assert engine.covers_from("Daily", late, now) == late
	# after a long pause: a month at most
	assert engine.covers_from("Daily", now - timedelta(days=90), now) == now - timedelta(days=31)


def test_one_digest_a_day():
	now = datetime(2026, 12, 7, 7, 0)
	assert not engine.sent_today(None, now)
	assert engine.sent_today(datetime(2026, 12, 7, 0, 1), now)
	assert not engine.sent_today(datetime(2026, 12, 6, 23, 59), now)


def test_worst_first_then_newest():
	t = datetime(2026, 12, 7)
	alerts = [
		{"name": "low-new", "severity": "Low", "creation": t},
		{"name": "high-old", "severity": "High", "creation": t - timedelta(days=2)},
		{"name": "critical", "severity": "Critical", "creation": t - timedelta(days=5)},
		{"name": "high-new", "severity": "High", "creation": t - timedelta(days=1)},
		{"name": "odd", "severity": None, "creation": t},
	]
	assert [a["name"] for a in engine.worst_first(alerts, 10)] == [
		"critical",
		"high-new",
		"high-old",
		"low-new",
		"odd",
	]
	assert [a["name"] for a in engine.worst_first(alerts, 2)] == ["critical", "high-new"]
	assert engine.worst_first([], 3) == []


def test_overdue_items_add_up():
	assert (
		engine.overdue_items({"overdue_milestones": 2, "overdue_checkins": None, "overdue_alert_tasks": 3})
		== 5
	)
	assert engine.overdue_items({}) == 0
