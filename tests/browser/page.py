"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, with the page's
hooks (web/README.md, "Test hooks") as small helpers: sign in and out, wait for a view, read the
console, take screenshots, emulate a phone."""

import os
import re
import shutil
import tempfile

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Generous: the machine may be busy; the waits end as soon as the page is there.
WAIT_S = 30
LIVE_WAIT_S = 60


def testid(name):
    return f'[data-testid="{name}"]'


class Browser:
    def __init__(self, base_url, screenshot_folder, log_folder, driver_log="chromedriver.log"):
        self.base_url = base_url
        self.screenshot_folder = screenshot_folder
        os.makedirs(screenshot_folder, exist_ok=True)
        os.makedirs(log_folder, exist_ok=True)
        self.profile = tempfile.mkdtemp(prefix="fw-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--disable-background-networking",
                         "--disable-sync", "--no-first-run", "--disable-component-update",
                         "--disable-extensions", "--lang=en-GB", "--window-size=1280,900",
                         f"--user-data-dir={self.profile}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER, log_path=os.path.join(log_folder, driver_log))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(WAIT_S)
        self.driver.set_script_timeout(WAIT_S * 2)
        self.console = []  # every console entry read so far, for the report of a failure

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # ---- waiting and finding ----

    def wait(self, condition, timeout=WAIT_S, message=""):
        def guarded(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False  # the view re-rendered under us: ask again
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(guarded, message)

    def find(self, selector, root=None):
        return (root or self.driver).find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector, root=None):
        return (root or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def shown(self, selector, timeout=WAIT_S):
        """The first visible element matching selector, once there is one."""
        def visible(_):
            for element in self.find_all(selector):
                if element.is_displayed():
                    return element
            return False
        return self.wait(visible, timeout, f"nothing visible matches {selector}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        return self.driver.execute_async_script(script, *args)

    def hash(self):
        return self.js("return location.hash")

    def wait_view(self, timeout=WAIT_S):
        """The view of the current route has rendered (the router clears aria-busy)."""
        self.wait(lambda _: self.js(
            "const v = document.getElementById('view');"
            "return v && !v.hasAttribute('aria-busy') && v.children.length > 0;"),
            timeout, f"the view of {self.hash()} did not render")
        errors = [e.text for e in self.find_all(testid("view-error")) if e.is_displayed()]
        if errors:
            raise AssertionError(f"the view of {self.hash()} shows an error: {errors[0]}")

    def go(self, route):
        """Navigates within the page (a hash change, as a click on a link does) and waits."""
        self.js("location.hash = arguments[0]", route)
        self.wait(lambda _: self.hash().startswith(route), message=f"route {route}")
        self.wait_view()

    def load(self, route="#/"):
        """A fresh page load (as typing the address does), not a same-document hash change:
        hence the blank page in between. Waits for the first view."""
        self.driver.get("about:blank")
        self.driver.get(self.base_url + "/" + route)
        self.wait(lambda _: self.js(
            "const v = document.getElementById('view');"
            "return !!v && !v.hasAttribute('aria-busy') && v.children.length > 0;"),
            message=f"the first view of {route} did not render")

    # ---- session ----

    def session_user(self):
        return self.find("#session-user").text.strip()

    def sign_out(self):
        if not self.find_all("#session-user") or not self.session_user():
            return
        self.find("#logout-button").click()
        self.wait(lambda _: self.hash().startswith("#/login"), message="logout lands on login")
        self.shown("#login-user")

    def fill_login(self, user, password):
        """Fills the login form and sends it; a refused attempt is over once the form is ready
        again (button enabled, password emptied)."""
        name = self.shown("#login-user")
        name.clear()
        name.send_keys(user)
        secret = self.find("#login-password")
        secret.clear()
        secret.send_keys(password)
        self.find("#login-submit").click()

    def wait_login_refused(self):
        self.wait(lambda _: self.js(
            "const b = document.getElementById('login-submit');"
            "const p = document.getElementById('login-password');"
            "return !!b && !b.disabled && !!p && p.value === '';"), message="login answered")
        return self.shown(testid("login-error"))

    def sign_in(self, user, password):
        if self.find_all("#session-user") and self.session_user() == user:
            return
        self.sign_out()
        if not self.hash().startswith("#/login"):
            self.load("#/login")
        self.fill_login(user, password)
        self.wait(lambda _: self.session_user() == user, message=f"{user} is signed in")
        self.wait(lambda _: not self.hash().startswith("#/login"), message="left the login page")
        self.wait_view()

    # ---- forms ----

    def type_into(self, selector, text, root=None):
        element = self.find(selector, root)
        element.clear()
        element.send_keys(text)
        return element

    def select(self, selector, value, root=None):
        Select(self.find(selector, root)).select_by_value(value)

    # ---- console, screenshots, phone ----

    def console_errors(self, allowed=()):
        """The SEVERE console entries since the last call that no pattern in allowed matches."""
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return [entry["message"] for entry in entries if entry["level"] == "SEVERE"
                and not any(re.search(pattern, entry["message"]) for pattern in allowed)]

    def screenshot(self, name):
        path = os.path.join(self.screenshot_folder, f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def emulate_phone(self, width=360, height=740):
        # Headless Chromium will not make a window narrower than 500 px: emulate the device.
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})

    def stop_emulation(self):
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def horizontal_overflow(self):
        """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
        return self.js("return Math.max(document.documentElement.scrollWidth,"
                       " document.body.scrollWidth) - window.innerWidth")
