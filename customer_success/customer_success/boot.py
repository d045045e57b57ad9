"""What the desk's first page needs, sent with the page itself.

Opening /app/customer-success, the desk loads its scripts (ERPNext's run four synchronous requests
as they load), then asks for its sidebar, waits for it, asks for the page and every request in
flight, then draws. Each of those requests costs its own round trip and the server's start of a
request (on `bench serve`, more than the answer itself). When the desk is opened at this workspace,
its answer (`api.workspace_page`: the page and every widget's figures, cached per user) and
frappe's own sidebar (`get_workspace_sidebar_items`, as the desk would ask for it) travel in the
boot of that same page load (`extend_bootinfo` runs on every boot; nothing of this is cached with
the session's boot). The bundle takes each once; anything missing, the desk asks its usual way.

Nothing here may stop a desk from starting: a failure is logged and the desk asks as before.
"""

import json

import frappe

from customer_success.customer_success import api

ROUTES = ("/app/customer-success",)


def opening_workspace(bootinfo) -> bool:
	"""Is this boot for a page load of the workspace: its URL, or /app when it is the user's default
	workspace."""
	request = getattr(frappe.local, "request", None)
	if not request or request.method != "GET":
		return False
	path = (request.path or "").rstrip("/")
	if path in ROUTES:
		return True
	if path != "/app":
		return False
	default = (bootinfo.get("user") or {}).get("default_workspace") or {}
	return default.get("title") == api.WORKSPACE or default.get("name") == api.WORKSPACE


def extend_bootinfo(bootinfo):
	if frappe.session.user == "Guest" or not opening_workspace(bootinfo):
		return
	try:
		answer = api.workspace_page(json.dumps({"name": api.WORKSPACE}))
	except Exception:
		frappe.log_error(title="Customer Success workspace in the boot")
		return
	if not answer or not answer.get("page"):
		return
	bootinfo["cs_workspace"] = answer
	try:
		from frappe.desk.desktop import get_workspace_sidebar_items

		bootinfo["cs_sidebar"] = get_workspace_sidebar_items()
	except Exception:
		frappe.log_error(title="Customer Success workspace sidebar in the boot")
