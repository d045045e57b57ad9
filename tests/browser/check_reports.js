#!/usr/bin/env node
// Opens the app's script reports in headless Chromium as the demo CSM (and as the demo CS Manager),
// with the workspace and a Customer form, and fails on a console error (socket.io aside), a failed
// API request, a report that does not render, or a CSM seeing a customer outside her book.
// Saves a screenshot of each report.
//
//   cd tests/browser && npm install
//   node check_reports.js --site http://SITE:8000 --password PASSWORD [--screenshots ../../docs/screenshots]
//
// Needs the demo on the site and the demo users' password set (see check_desk.js). A site name
// that only the browser can resolve: --host-resolver-rules "MAP SITE 127.0.0.1".
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const { onPageError } = require("./known_errors");

const notes = []; // page errors set aside as frappe's own (known_errors.js), printed at the end

function arg(name, fallback) {
	const i = process.argv.indexOf(`--${name}`);
	return i > -1 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SITE = (arg("site", process.env.CS_SITE_URL || "") || "").replace(/\/$/, "");
const PASSWORD = arg("password", process.env.CS_DEMO_PASSWORD || "");
const SHOTS = path.resolve(arg("screenshots", path.join(__dirname, "..", "..", "docs", "screenshots")));
const RESOLVER = arg("host-resolver-rules", "");
const EXECUTABLE = process.env.CHROMIUM_PATH || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));

const PEOPLE = [
	{ user: "alice.csm@example.com", role: "CSM", shots: true, own_book: true },
	{ user: "morgan.csmanager@example.com", role: "CS Manager", shots: false, own_book: false },
];
// [report, whether it draws a chart with the demo's data, the column holding the customer]
// [report, draws a chart when it has rows, the column naming a customer, opens on the last twelve
// months from the first of the month eleven months back]
const REPORTS = [
	["Customer Health", true, "customer"],
	["Health Trend", true, null],
	["Health Backtest", false, "customer"],
	["Success Plan Progress", true, "customer"],
	["CSM Workload", true, null],
	["Renewal Forecast", false, "customer"],
	["Revenue Retention", false, null, true],
	["Revenue Leakage", false, "customer"],
	["Segment Performance", false, null],
	["NPS Trend", true, null, true],
	["CS Maturity over Time", true, null],
];

if (!SITE || !PASSWORD) {
	console.error("usage: node check_reports.js --site http://SITE:PORT --password PASSWORD [--screenshots DIR]");
	process.exit(2);
}

const slug = (name) => name.toLowerCase().replace(/ /g, "-");

async function settle(page) {
	await page.waitForLoadState("networkidle").catch(() => null);
	await page.waitForFunction(() => !document.querySelector(".freeze"), null, { timeout: 10000 }).catch(() => null);
}

async function check(person, browser, problems) {
	const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
	const page = await context.newPage();
	let where = "login";
	const problem = (text) => problems.push(`[${person.role}] ${where}: ${text}`);
	const realtime = (text) => /socket\.io/i.test(text || "");
	page.on("console", (msg) => {
		if (msg.type() !== "error" || realtime(msg.text()) || realtime(msg.location().url)) return;
		problem(`console error: ${msg.text()} ${msg.location().url || ""}`);
	});
	page.on("pageerror", onPageError(problem, notes));
	page.on("response", (res) => {
		if (res.url().includes("/api/") && res.status() >= 400) problem(`${res.status()} from ${res.url()}`);
	});

	await page.goto(`${SITE}/login`);
	const status = await page.evaluate(
		([usr, pwd]) =>
			fetch("/api/method/login", {
				method: "POST",
				headers: { "Content-Type": "application/x-www-form-urlencoded" },
				body: new URLSearchParams({ usr, pwd }),
			}).then((r) => r.status),
		[person.user, PASSWORD]
	);
	if (status !== 200) {
		problem(`cannot log in (${status})`);
		await context.close();
		return;
	}

	where = "workspace";
	await page.goto(`${SITE}/app/customer-success`);
	await page.waitForSelector(".number-widget-box", { timeout: 30000 }).catch(() => problem("the workspace did not render"));
	await settle(page);
	const links = await page.evaluate(() => [...document.querySelectorAll(".links-widget-box a, .link-item")].map((a) => a.innerText.trim()));
	for (const [report] of REPORTS) {
		if (!links.some((text) => text.includes(report))) problem(`no link to the report "${report}"`);
	}

	where = "Customer form";
	const customer = await page.evaluate(
		(user) => frappe.db.get_list("Customer", { fields: ["name"], filters: { cs_owner: user }, limit: 1 }).then((r) => (r[0] || {}).name),
		person.user
	);
	const anyCustomer = customer || (await page.evaluate(() => frappe.db.get_list("Customer", { fields: ["name"], limit: 1 }).then((r) => (r[0] || {}).name)));
	if (anyCustomer) {
		await page.goto(`${SITE}/app/customer/${encodeURIComponent(anyCustomer)}`);
		await page.waitForSelector(".form-layout", { timeout: 20000 }).catch(() => problem("the form did not render"));
		await settle(page);
	} else {
		problem("no customer to open");
	}

	const book = await page.evaluate(
		(user) => frappe.db.get_list("Customer", { fields: ["name"], filters: { cs_owner: user }, limit: 0 }).then((r) => r.map((d) => d.name)),
		person.user
	);
	for (const [report, charted, customerColumn, twelveMonths] of REPORTS) {
		where = `report ${report}`;
		await page.goto(`${SITE}/app/query-report/${encodeURIComponent(report)}`);
		const ready = await page
			.waitForFunction(
				(name) => window.frappe && frappe.query_report && frappe.query_report.report_name === name && Array.isArray(frappe.query_report.data) && !frappe.query_report.loading,
				report,
				{ timeout: 30000 }
			)
			.then(() => true)
			.catch(() => false);
		if (!ready) {
			problem("the report never finished loading");
			continue;
		}
		await settle(page);
		await page.waitForTimeout(800); // the chart's draw-in animation
		const state = await page.evaluate(
			(column) => ({
				rows: frappe.query_report.data.length,
				customers: column ? frappe.query_report.data.map((row) => row[column]).filter(Boolean) : [],
				chart: !!document.querySelector(".report-wrapper .chart-wrapper svg, .chart-wrapper .frappe-chart"),
				// the rows, or frappe's "Nothing to show" (drawn beside the report's wrapper, not in it)
				table:
					!!document.querySelector(".report-wrapper .dt-scrollable, .report-wrapper .no-result, .report-wrapper .dt-row") ||
					!!(frappe.query_report.$message && frappe.query_report.$message.is(":visible") && frappe.query_report.$message.find(".msg-box").length),
			}),
			customerColumn
		);
		if (!state.table) problem("no table shown");
		if (twelveMonths) {
			// frappe.datetime.month_start() takes no date: a default built as month_start(some date)
			// opened on this month alone
			const from = await page.evaluate(() => frappe.query_report.get_filter_value("from_date"));
			const expected = await page.evaluate(() => moment().startOf("month").subtract(11, "months").format("YYYY-MM-DD"));
			if (from !== expected) problem(`opens from ${from}, not the first of the month eleven months back (${expected})`);
		}
		if (charted && state.rows && !state.chart) problem("no chart drawn");
		if (person.own_book) {
			const outside = state.customers.filter((name) => !book.includes(name));
			if (outside.length) problem(`shows customers outside the CSM's book: ${outside.slice(0, 5).join(", ")}`);
		}
		console.log(`${person.role}: ${report}: ${state.rows} rows${state.chart ? ", chart" : ""}`);
		if (person.shots) await page.screenshot({ path: path.join(SHOTS, `report-${slug(report)}.png`) });
	}
	await context.close();
}

(async () => {
	fs.mkdirSync(SHOTS, { recursive: true });
	const args = ["--no-sandbox"];
	if (RESOLVER) args.push(`--host-resolver-rules=${RESOLVER}`);
	const browser = await chromium.launch({ executablePath: EXECUTABLE, args });
	const problems = [];
	try {
		for (const person of PEOPLE) await check(person, browser, problems);
	} finally {
		await browser.close();
	}
	for (const note of new Set(notes)) console.log(`note: ${notes.filter((n) => n === note).length}× ${note}`);
	if (problems.length) {
		console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join("\n")}`);
		process.exit(1);
	}
	console.log(`OK: every report opened as ${PEOPLE.map((p) => p.role).join(" and ")}; screenshots in ${SHOTS}`);
})();
