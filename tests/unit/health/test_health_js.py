"""The desk's health rendering, run in node against a minimal stand-in of frappe's desk globals.

What a user typed (an override reason) and what the database holds (factor values) must show
as text, never as HTML; and a customer with too little known shows a dash, never a number.
"""

import json
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
BUNDLE = ROOT / "customer_success/public/js/customer_success.bundle.js"
CUSTOMER_JS = ROOT / "customer_success/public/js/customer.js"
SCORE_JS = ROOT / "customer_success/health/doctype/customer_health_score/customer_health_score.js"
LIST_JS = ROOT / "customer_success/health/doctype/customer_health_score/customer_health_score_list.js"

XSS = "<img src=x onerror=alert(1)>"
DASH = "\u2013"  # what the desk shows where there is no score

# frappe.utils.escape_html as frappe v15 ships it; the rest is the least the scripts need.
HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const handlers = {};
const wrapper = () => ({ _html: "", empty() { this._html = ""; return this; }, html(h) { this._html = h; return this; },
	find() { return { on() {} }; } });
global.frappe = {
	provide(ns) { let o = global; for (const p of ns.split(".")) { o[p] = o[p] || {}; o = o[p]; } },
	utils: { escape_html(txt) { if (!txt) return ""; const m = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
		"'": "&#39;", "`": "&#x60;", "=": "&#x3D;" }; return String(txt).replace(/[&<>"'`=]/g, (c) => m[c] || c); } },
	model: { unscrub: (s) => s },
	datetime: { str_to_user: (s) => s, add_days: (d) => d, get_today: () => "2026-12-01" },
	router: { slug: (s) => s.toLowerCase().replace(/ /g, "-") },
	ui: { form: { on(doctype, h) { const prev = handlers[doctype]; handlers[doctype] = prev ? { refresh(frm) { prev.refresh && prev.refresh(frm); h.refresh && h.refresh(frm); } } : h; } } },
	listview_settings: {},
	call(opts) { if (opts.callback) opts.callback({ message: input.api }); return Promise.resolve({ message: [] }); },
	db: { count: () => Promise.resolve(0) },
	session: { user: "csm@example.com" },
	user: { has_role: () => false },
};
global.__ = (s, args) => (args ? s.replace(/\{(\d+)\}/g, (m, i) => String(args[i])) : s);
global.format_number = (v, f, d) => Number(v).toFixed(d === undefined ? 2 : d);
global.cint = (v) => parseInt(v) || 0;
global.flt = (v) => parseFloat(v) || 0;
global.$ = () => ({ attr() {} });
for (const file of input.files) vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });

const out = {};
const $w = wrapper();
customer_success.health.service.render_explanation($w, input.score, "CUST-1");
out.explanation = $w._html;

const df = {};
const formFrm = { get_docfield: () => df, refresh_field() {} };
customer_success.health.service.escape_text_field(formFrm, "override_reason");
out.reason_field = df.formatter ? df.formatter(input.score.override_reason) : null;

const intro = [], indicators = [], sections = [];
const frm = {
	doc: input.customer, is_new: () => false, get_docfield: () => ({}), refresh_field() {},
	add_custom_button() {}, set_intro(html) { intro.push(html); },
	dashboard: { add_indicator(html, colour) { indicators.push([html, colour]); }, add_comment() {},
		add_section() { const s = wrapper(); sections.push(s); return s; } },
};
handlers.Customer.refresh(frm);
out.intro = intro;
out.indicators = indicators;
out.sections = sections.map((s) => s._html);
const list = frappe.listview_settings["Customer Health Score"];
out.list_indicator = list.get_indicator({ status: input.score.status });
out.list_score = list.formatters.score(input.score.score, {}, { status: input.score.status });
process.stdout.write(JSON.stringify(out));
"""


def render(score: dict, customer: dict) -> dict:
	node = shutil.which("node")
	if not node:
		pytest.skip("node is not installed")
	payload = {
		"files": [str(BUNDLE), str(CUSTOMER_JS), str(SCORE_JS), str(LIST_JS)],
		"score": score,
		"customer": customer,
		"api": {"score": score, "can_edit": True, "trend_days": 30},
	}
	result = subprocess.run(
		[node, "-e", HARNESS], input=json.dumps(payload), capture_output=True, text=True, timeout=60
	)
	assert result.returncode == 0, result.stderr
	return json.loads(result.stdout)


def explanation(**fields) -> dict:
	factors = [
		{
			"factor_type": "Engagement Recency",
			"raw": "Never contacted",
			"sub_score": 0,
			"weight": 30,
			"effective_weight": 100,
			"contribution": 0,
		},
		{
			"factor_type": "Payment Behaviour",
			"raw": {"note": XSS},
			"sub_score": None,
			"weight": 70,
			"effective_weight": 0,
			"contribution": 0,
		},
	]
	return {
		"score": 0,
		"status": "Insufficient Data",
		"computed_score": 0,
		"computed_status": "Insufficient Data",
		"is_override": 0,
		"explanation": json.dumps(factors),
		**fields,
	}


def test_override_reason_and_factor_values_show_as_text():
	score = explanation(
		score=80,
		status="Green",
		is_override=1,
		override_reason=XSS,
		override_until="2026-12-31",
	)
	out = render(score, {"name": "CUST-1", "cs_health_status": "Green", "cs_health_score": 80})
	for html in (out["explanation"], *out["sections"], out["reason_field"]):
		assert "<img" not in html
	assert "&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;" in out["explanation"]  # the reason is shown
	assert "&lt;img" in out["reason_field"]
	assert "Never contacted" in out["explanation"]


def test_insufficient_data_shows_no_number_and_is_grey():
	score = explanation(score=87.5, computed_score=87.5)
	out = render(score, {"name": "CUST-1", "cs_health_status": "Insufficient Data", "cs_health_score": 87.5})
	assert "87" not in out["explanation"].split("<table")[0]  # the headline pill has no number
	assert "indicator-pill gray" in out["explanation"]
	assert DASH in out["explanation"].split("<table")[0]
	assert out["indicators"] == [[f"Health: Insufficient Data ({DASH})", "gray"]]
	assert "87" not in out["intro"][0]
	assert out["list_indicator"][1] == "gray"
	assert out["list_score"] == DASH
	assert "30% of the model" in out["explanation"]


def test_a_reason_stored_escaped_is_not_escaped_twice():
	stored = "Sponsor said &lt;b&gt;yes&lt;/b&gt; & signed"
	score = explanation(score=80, status="Green", is_override=1, override_reason=stored)
	out = render(score, {"name": "CUST-1", "cs_health_status": "Green", "cs_health_score": 80})
	assert "&lt;b&gt;yes&lt;/b&gt; &amp; signed" in out["explanation"]
	assert "&amp;lt;" not in out["explanation"] and "<b>" not in out["explanation"]
	assert out["reason_field"] == "Sponsor said &lt;b&gt;yes&lt;/b&gt; &amp; signed"


def test_product_usage_shows_each_metric_against_its_entitlement_as_text():
	factors = [
		{
			"factor_type": "Product Usage",
			"raw": {
				"utilisation": 0.9,
				"trend": -0.1,
				"metrics": [
					{"metric": XSS, "used": 9, "entitlement": 10, "utilisation": 0.9, "change": -0.1},
					{
						"metric": "API Calls",
						"used": 500,
						"entitlement": None,
						"utilisation": None,
						"change": None,
					},
				],
			},
			"sub_score": 94,
			"weight": 100,
			"effective_weight": 100,
			"contribution": 94,
		}
	]
	score = explanation(score=94, status="Green", explanation=json.dumps(factors))
	out = render(score, {"name": "CUST-1", "cs_health_status": "Green", "cs_health_score": 94})
	html = out["explanation"]
	assert "<img" not in html
	assert "utilisation: 90%" in html  # the harness does not unscrub
	assert "trend: -10%" in html
	assert "&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;: 9 / 10 (90%), -10%" in html
	assert "API Calls: 500" in html
	assert "[object Object]" not in html
