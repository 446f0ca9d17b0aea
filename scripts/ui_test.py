#!/usr/bin/env python3
"""Browser checks with headless Chromium (Debian's) through Playwright.

Usage: ui_test.py PRODUCTPAGE_URL STORAGE_URL ARTIFACT_DIR
Prints one line per check and 'N passed, N failed' at the end; exits 1 on any failure.
"""
import sys

from playwright.sync_api import sync_playwright

from checks import Checks

productpage, storage, artifacts = sys.argv[1], sys.argv[2], sys.argv[3]
check = Checks("ui")



def listed(text):
    """A page expression: whether a row of the storage list contains `text`."""
    return f"[...document.querySelectorAll('#rows tr')].some(tr => tr.textContent.includes({text!r}))"


def wait_for(expression):
    """Waits at most 5 s for a page condition; the check that follows says whether it came."""
    try:
        page.wait_for_function(expression, timeout=5000)
    except Exception:
        pass


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page()
    failed_requests, external_requests, console_errors = [], [], []
    page.on("requestfailed", lambda r: failed_requests.append(r.url))
    page.on("response", lambda r: failed_requests.append(r.url) if r.status >= 400 else None)
    page.on("request", lambda r: external_requests.append(r.url) if not r.url.startswith((productpage, storage)) else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.goto(productpage + "/productpage", wait_until="networkidle")
    check("productpage title", page.title() == "Simple Bookstore App", page.title())
    check("productpage shows the details table", page.locator("#details table").count() == 1)
    check("productpage loads nothing from outside", not external_requests, str(external_requests))
    check("productpage resources all load", not failed_requests, str(failed_requests))
    check("stylesheet applied", page.evaluate("getComputedStyle(document.querySelector('nav')).backgroundColor") == "rgb(70, 107, 176)")
    page.screenshot(path=f"{artifacts}/productpage.png", full_page=True)

    page.click("#sign-in-button")
    check("sign-in dialog opens", page.locator("dialog#dialog").is_visible())
    page.screenshot(path=f"{artifacts}/sign-in-dialog.png")
    page.fill("#username", "jason")
    page.fill("#password", "password")
    page.click("dialog button[type=submit]")
    page.wait_for_load_state("networkidle")
    check("signed in as jason", page.locator("#user").inner_text() == "jason", page.content()[:200])
    check("sign-out link shown", page.locator("a[href=logout]").count() == 1)
    page.screenshot(path=f"{artifacts}/signed-in.png", full_page=True)
    page.click("a[href=logout]")
    page.wait_for_load_state("networkidle")
    check("signed out", page.locator("#sign-in-button").count() == 1)

    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    failed_requests.clear()
    page.goto(storage + "/web/", wait_until="networkidle")
    check("storage UI title", page.title() == "Istio is not just for microservices", page.title())
    key, value = "ui-test-key", "<script>alert(1)</script>"
    page.fill("#name", key)
    page.fill("#value", value)
    page.click("#add")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Stored')")
    # The status is shown before the list is fetched again: wait for the list too.
    wait_for(listed("/" + key))
    row = page.locator("#rows tr", has_text="/" + key)
    check("added key is listed", row.count() == 1)
    check("script value shown as text", row.locator("td").nth(1).inner_text() == value, row.inner_html() if row.count() else "no row")
    check("script value not run", not dialogs, str(dialogs))
    page.screenshot(path=f"{artifacts}/storage-ui.png", full_page=True)
    row.locator("button.remove").click()
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Removed')")
    wait_for("!" + listed("/" + key))
    check("removed key disappears", page.locator("#rows tr", has_text="/" + key).count() == 0)
    page.fill("#name", "x" * 300)
    page.evaluate("document.querySelector('#name').removeAttribute('maxlength')")
    page.fill("#name", "x" * 300)
    page.fill("#value", "v")
    page.click("#add")
    page.wait_for_function("document.querySelector('#status').className === 'error'")
    check("errors are shown to the user", "400" in page.locator("#status").inner_text(), page.locator("#status").inner_text())
    check("storage UI loads nothing from outside", not [u for u in external_requests if "storage" in u], str(external_requests))
    browser.close()

sys.exit(check.finish())
