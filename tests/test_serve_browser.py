"""The front desk's page in a real browser: Debian's Chromium driven by Selenium through chromium-driver.

Search by code, choose Spanish and large print, see the preview, download the PDF and check its
language and pages; a patient's name that leaves no trace; a two-handout packet; keyboard use; and
axe-core (tests/js, from the lockfile) on every screen: no serious or critical violations.
On CI (CI=true) a missing browser, driver, Selenium or axe-core fails these tests; elsewhere they skip.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serving import REPO, Server, copy_workspace, listing

pytestmark = pytest.mark.slow

AXE = REPO / "tests/js/node_modules/axe-core/axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
NAME = "Ottoline Vanderbrink"


def _missing(message: str) -> None:
    """Fail on CI, where the browser must be installed (./dev test installs it); skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    base = tmp_path_factory.mktemp("browser")
    ws = copy_workspace(base / "ws")
    with Server(ws, base / "server.log", "-j", "1", tmpdir=base / "tmp") as server:
        yield server, ws, base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("Selenium is not installed (pip install -e '.[test]')")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK)):
        _missing("Chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    if not AXE.is_file():
        _missing("axe-core is not installed (./dev test installs it from tests/js/package-lock.json)")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--lang=en-US"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "plugins.always_open_pdf_externally": True,  # a PDF is saved, never shown in the browser's viewer
    })
    log = tmp_path_factory.mktemp("driver") / "chromedriver.log"
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER, log_output=str(log)))
    driver.set_page_load_timeout(120)
    try:
        yield driver, downloads
    finally:
        driver.quit()


def axe_violations(driver: Any) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations, one line each."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'wcag22aa', 'best-practice']}}).then(r => done(r.violations.map(v => [v.id, v.impact, "
        "v.nodes.map(n => n.target.join(' ')).join(', ')])));")
    return [f"{rule} ({impact}): {nodes}" for rule, impact, nodes in violations if impact in ("serious", "critical")]


def wait_for(condition: Any, seconds: float = 90, what: str = "the page") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def downloaded(folder: Path, name: str) -> Path:
    path = folder / name
    wait_for(lambda: path.is_file() and not list(folder.glob("*.crdownload")), what=f"the download {name}")
    return path


def images_loaded(driver: Any) -> int:
    return int(driver.execute_script(
        "const imgs = [...document.querySelectorAll('.pages img')];"
        "return imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0) ? imgs.length : 0;"))



def test_search_by_code_choose_spanish_large_print_preview_and_download(
        served: tuple[Server, Path, Path], browser: tuple[Any, Path]) -> None:
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    server = served[0]
    driver, downloads = browser
    driver.get(f"{server.url}/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert axe_violations(driver) == []
    search = driver.find_element(By.ID, "q")
    search.send_keys("M543", Keys.ENTER)  # the code without its dot, submitted from the keyboard
    wait_for(lambda: "q=M543" in driver.current_url, what="the search")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "a[href*='topic=sciatica'][href*='kind=overview']").click()
    wait_for(lambda: images_loaded(driver), what="the preview")
    Select(driver.find_element(By.ID, "lang")).select_by_value("es")  # the page's script shows it at once
    wait_for(lambda: "lang=es" in driver.current_url and images_loaded(driver), what="the Spanish preview")
    assert "Español (es)" in driver.find_element(By.ID, "lang").text
    assert driver.switch_to.active_element.get_attribute("id") == "lang"  # the focus stays where it was
    driver.find_element(By.ID, "large").click()
    wait_for(lambda: "large=1" in driver.current_url and images_loaded(driver), what="the large-print preview")
    pages = images_loaded(driver)
    assert "Draft" in driver.find_element(By.CSS_SELECTOR, "p.badge.draft").text
    assert axe_violations(driver) == []
    driver.find_element(By.LINK_TEXT, "Download PDF").click()
    pdf = downloaded(downloads, "sciatica-overview-standard-es-letter-large.pdf")
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert reader.trailer["/Root"]["/Lang"] == "es"
    assert len(reader.pages) == pages >= 2  # large print: the standard handout's pages, at least doubled
    assert "ciática" in reader.pages[0].extract_text().lower()


def test_a_patient_name_is_printed_and_leaves_no_trace(served: tuple[Server, Path, Path],
                                                      browser: tuple[Any, Path]) -> None:
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By

    server, ws, base = served
    driver, downloads = browser
    driver.get(f"{server.url}/handout?topic=sciatica&kind=overview&lang=es&length=standard&large=1")
    wait_for(lambda: images_loaded(driver), what="the preview")
    before = listing(ws, base / "tmp")
    driver.find_element(By.ID, "patient_name").send_keys(NAME)
    driver.find_element(By.ID, "follow_up").send_keys("01152027")
    driver.find_element(By.CSS_SELECTOR, "#personal button[value=download]").click()
    pdf = downloaded(downloads, "handout.pdf")
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages).split())
    assert NAME in text
    assert NAME.split()[0] not in driver.current_url
    assert listing(ws, base / "tmp") == before
    assert NAME.split()[1] not in (base / "server.log").read_text(encoding="utf-8", errors="replace")
    pdf.unlink()


def test_a_two_handout_packet(served: tuple[Server, Path, Path], browser: tuple[Any, Path]) -> None:
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, downloads = browser
    driver.get(f"{served[0].url}/packet")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "input[value='sciatica:overview']").click()
    driver.find_element(By.CSS_SELECTOR, "input[value='kratom:caution']").click()
    Select(driver.find_element(By.ID, "lang")).select_by_value("es")
    Select(driver.find_element(By.ID, "length")).select_by_value("brief")
    driver.find_element(By.CSS_SELECTOR, "#packet button[value=download]").click()
    reader = PdfReader(io.BytesIO(downloaded(downloads, "packet.pdf").read_bytes()))
    # in the order of the list on the page
    assert [item.title for item in reader.outline] == ["Kratom y terapias alternativas", "Ciática"]
    assert len(reader.pages) == 3
    assert reader.trailer["/Root"]["/Lang"] == "es"


def test_keyboard_focus_is_visible_and_other_screens_pass_axe(served: tuple[Server, Path, Path],
                                                              browser: tuple[Any, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, _downloads = browser
    driver.get(f"{served[0].url}/")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.text == "Skip to content"
    assert focused.value_of_css_property("outline-style") == "solid"
    assert float(focused.value_of_css_property("outline-width").removesuffix("px")) >= 2
    for path in ("/sign-in", "/handout?topic=nothing&kind=overview"):
        driver.get(f"{served[0].url}{path}")
        assert axe_violations(driver) == [], path
    # and axe does see a violation when there is one: an image with no text alternative
    driver.execute_script("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">');")
    assert [line.split()[0] for line in axe_violations(driver)] == ["image-alt"]


@pytest.fixture(scope="module")
def two_brands(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server offering two brands (tests/test_brands.py's North Valley and South Side)."""
    from tests.test_brands import BRANDS

    base = tmp_path_factory.mktemp("browser-brands")
    ws = copy_workspace(base / "ws")
    for rel, text in BRANDS.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text, encoding="utf-8")
    with Server(ws, base / "server.log", "-j", "1", "--brand", "north", "--brand", "south-side",
                tmpdir=base / "tmp") as server:
        yield server


def test_with_two_brands_a_labelled_clinic_choice_by_keyboard(two_brands: Server, browser: tuple[Any, Path]) -> None:
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, downloads = browser
    driver.get(f"{two_brands.url}/?q=M54.31")
    choice = driver.find_element(By.ID, "brand")
    assert choice.accessible_name == "Clinic"
    assert [o.text for o in choice.find_elements(By.TAG_NAME, "option")] == ["North Valley Clinic", "South Side Health"]
    assert axe_violations(driver) == []
    choice.send_keys(Keys.ARROW_DOWN)  # the keyboard alone: the page's script shows the choice at once
    wait_for(lambda: "brand=south-side" in driver.current_url, what="the search for South Side Health")
    assert "q=M54.31" in driver.current_url
    assert driver.switch_to.active_element.get_attribute("id") == "brand"  # the focus stays where it was
    driver.find_element(By.CSS_SELECTOR, "a[href*='topic=sciatica'][href*='kind=overview']").click()
    wait_for(lambda: images_loaded(driver), what="the preview")
    assert "brand=south-side" in driver.current_url
    assert driver.find_element(By.ID, "brand").accessible_name == "Clinic"
    assert axe_violations(driver) == []
    driver.find_element(By.LINK_TEXT, "Download PDF").click()
    pdf = downloaded(downloads, "sciatica-overview-standard-en-letter-south-side.pdf")
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages).split())
    assert "South Side Health" in text and "North Valley Clinic" not in text
    driver.get(f"{two_brands.url}/packet?brand=south-side")
    assert driver.find_element(By.ID, "brand").accessible_name == "Clinic"
    assert axe_violations(driver) == []
