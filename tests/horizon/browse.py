"""Horizon in a real browser: Debian's headless Chromium driven by Selenium (PyPI) through
Debian's chromedriver. Opens the dashboard at URL, logs in, visits the project overview and
the images page, saves a screenshot of each page, and prints what each page showed as JSON
(title, URL, heading, and for the images page the names in its table) for the test to judge.

Usage: python browse.py URL USER OUTDIR IMAGE_NAME   (the password on stdin, never an argument)
"""
import json
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 240  # seconds for a page (a loaded two-core machine, a first request to each service)


def page(driver, name, outdir, extra=None):
    shot = f"{outdir}/horizon-{name}.png"
    driver.save_screenshot(shot)
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "h1, .page-header h1, .page-title")]
    seen = {
        "title": driver.title,
        "url": driver.current_url,
        "headings": [h for h in headings if h],
        "screenshot": shot,
        "errors": [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".alert-danger, .messages .alert-error")],
    }
    if extra:
        seen.update(extra)
    return seen


def shown(driver, wait, url=None):
    """Opens URL (or waits on the current page) until it is the dashboard's own page: a
    gateway error from haproxy (a first request slower than its timeout, on a loaded
    machine) is loaded again, up to three times. Returns how many loads it took."""
    for attempt in range(1, 4):
        if url:
            driver.get(url)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "h1")))
        h1 = " ".join(h.text for h in driver.find_elements(By.CSS_SELECTOR, "h1"))
        if not any(code in h1 for code in ("502", "503", "504")):
            return attempt
        url = url or driver.current_url
    return attempt


def main():
    url, user, outdir, image = sys.argv[1:5]
    password = sys.stdin.readline().rstrip("\n")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    report = {}
    try:
        driver.set_page_load_timeout(WAIT)
        wait = WebDriverWait(driver, WAIT)
        driver.get(url)
        wait.until(ec.presence_of_element_located((By.ID, "id_username")))
        report["login"] = page(driver, "login", outdir, {
            "form": [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "form input")],
        })
        driver.find_element(By.ID, "id_username").send_keys(user)
        driver.find_element(By.ID, "id_password").send_keys(password)
        driver.find_element(By.ID, "loginBtn").click()
        # the project overview is the admin's home page once logged in
        wait.until(lambda d: "/auth/login" not in d.current_url)
        loads = shown(driver, wait)
        report["overview"] = page(driver, "overview", outdir, {
            "user": [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".user-menu, #profile_editor_switcher")],
            "loads": loads,
        })
        loads = shown(driver, wait, url.rstrip("/") + "/project/images")
        # the images table is drawn by the page's Angular code from horizon's REST API
        try:
            WebDriverWait(driver, WAIT).until(
                lambda d: any(image in r.text for r in d.find_elements(By.CSS_SELECTOR, "table tbody tr")))
        except TimeoutException:
            pass
        time.sleep(1)  # the row's last cells (status, size) drawn
        report["images"] = page(driver, "images", outdir, {
            "rows": [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table tbody tr") if r.text],
            "loads": loads,
        })
    except Exception as e:  # what the browser showed when it went wrong, for the test's message
        driver.save_screenshot(f"{outdir}/horizon-failed.png")
        report["failed"] = {"error": f"{type(e).__name__}: {e}", "url": driver.current_url,
                            "title": driver.title, "text": driver.find_element(By.TAG_NAME, "body").text[:2000]}
    finally:
        driver.quit()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
