#!/usr/bin/env node
// Opens what ERPNext's everyday users open, as users with no Customer Success role (by default a Sales
// User and an Accounts User), in headless Chromium: a Customer form and the Customer list, where the
// app adds its sections and buttons. Fails on an error dialog, a console error (socket.io aside) or a
// failed API request; any of them is the app's (3 December 2026: a "No permission for Customer
// Touchpoint" dialog on every Customer form a Sales User opened).
//
//   cd tests/browser && npm install
//   node check_other_roles.js --site http://SITE:8000 --password PASSWORD --customer CUSTOMER \
//     [--users sam.sales@example.com,avery.accounts@example.com]
//
// The users must exist with that password and their ERPNext roles, for example from a console:
//   frappe.get_doc({"doctype": "User", "email": "sam.sales@example.com", "first_name": "Sam",
//     "send_welcome_email": 0, "roles": [{"role": "Sales User"}]}).insert()
//   bench --site SITE set-password sam.sales@example.com PASSWORD
"use strict";

const fs = require("fs");
const { chromium } = require("playwright-core");

function arg(name, fallback) {
	const i = process.argv.indexOf(`--${name}`);
	return i > -1 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SITE = (arg("site", process.env.CS_SITE_URL || "") || "").replace(/\/$/, "");
const PASSWORD = arg("password", process.env.CS_DEMO_PASSWORD || "");
const CUSTOMER = arg("customer", "");
const USERS = arg("users", "sam.sales@example.com,avery.accounts@example.com").split(",");
const EXECUTABLE = process.env.CHROMIUM_PATH || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));

if (!SITE || !PASSWORD || !CUSTOMER) {
	console.error("usage: node check_other_roles.js --site http://SITE:PORT --password PASSWORD --customer CUSTOMER [--users a,b]");
	process.exit(2);
}

(async () => {
	const browser = await chromium.launch({ executablePath: EXECUTABLE, args: ["--no-sandbox"] });
	const failures = [];
	for (const user of USERS) {
		const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
		const page = await context.newPage();
		let route = "";
		const fail = (what) => failures.push(`[${user}] ${route}: ${what}`);
		page.on("console", (m) => {
			const text = m.text();
			if (m.type() === "error" && !/socket\.io|Failed to load resource: the server responded with a status of 404/.test(text)) {
				fail(`console error: ${text.slice(0, 200)}`);
			}
		});
		page.on("pageerror", (e) => fail(`page error: ${String(e).slice(0, 200)}`));
		page.on("response", (r) => {
			if (r.status() >= 400 && r.url().includes("/api/")) fail(`HTTP ${r.status()} ${r.url().slice(0, 160)}`);
		});
		const login = await page.request.post(`${SITE}/api/method/login`, { form: { usr: user, pwd: PASSWORD } });
		if (!login.ok()) {
			failures.push(`[${user}] login failed (${login.status()})`);
			await context.close();
			continue;
		}
		for (route of [`/app/customer/${encodeURIComponent(CUSTOMER)}`, "/app/customer"]) {
			await page.goto(SITE + route, { waitUntil: "networkidle" }).catch((e) => fail(`did not open: ${e}`));
			await page.waitForTimeout(2000);
			const dialogs = await page.$$eval(".modal.show .modal-body", (els) =>
				els.map((e) => e.innerText.trim().slice(0, 200)).filter(Boolean)
			);
			for (const text of dialogs) fail(`dialog: ${text}`);
		}
		console.log(`${user}: opened the Customer form and list`);
		await context.close();
	}
	await browser.close();
	if (failures.length) {
		console.log(`FAILED:\n- ${failures.join("\n- ")}`);
		process.exit(1);
	}
	console.log("OK: no error for users without a Customer Success role");
})();
