"""The listening-test page in a real browser (headless Chromium driven by Selenium): play,
score, reload mid-way, finish, and read the saved answers."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Chromium and chromedriver are not installed (Debian "
    "packages chromium and chromium-driver; scripts/test.sh installs them where it can)")


def _folders(root: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    folders = {name: root / name for name in ("ref", "aural", "classical", "in")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    t = np.arange(48_000 * 2) / 48_000
    for index in range(3):
        clean = 0.2 * np.sin(2 * np.pi * (300 + 100 * index) * t)
        for name, noise in (("ref", 0.0), ("aural", 0.01), ("classical", 0.05), ("in", 0.1)):
            sf.write(folders[name] / f"item{index}.wav",
                     clean + noise * rng.standard_normal(len(t)), 48_000)
    return folders


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--window-size=1100,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


def _set_slider(driver, element, value: int) -> None:
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('input'));", element, value)


def test_mushra_page_plays_scores_survives_a_reload_and_saves(tmp_path):
    from selenium.webdriver.common.by import By

    from aural.listening.build import build_test, items_from_folders
    from aural.listening.results import summarise

    folders = _folders(tmp_path)
    items = items_from_folders({"aural": folders["aural"], "classical": folders["classical"]},
                               folders["ref"], folders["in"])
    page = build_test(items, tmp_path / "test", kind="mushra", seed=3)
    source = "".join(p.read_text() for p in page.parent.glob("*.js")) + page.read_text()
    assert "classical" not in source and "aural\"" not in source.lower()
    key = json.loads((page.parent / "key.json").read_text())
    system_of = {token.split("/")[1]: entry["system"] for token, entry in key["ids"].items()}
    wanted = {"hidden reference": 100, "aural": 80, "classical": 60, "input": 40,
              "anchor (3.5 kHz low-pass)": 10}

    driver = _browser()
    try:
        driver.get(page.as_uri())
        driver.find_element(By.ID, "listener").send_keys("tester")
        driver.find_element(By.ID, "start").click()
        for trial in range(3):
            assert f"trial {trial + 1} of 3" in driver.find_element(By.ID, "progress").text
            driver.find_element(By.CSS_SELECTOR, "[data-play='1']").click()
            playing = driver.execute_script(
                "const p = document.getElementById('player');"
                "return new Promise(r => setTimeout(() => r(!p.paused || p.currentTime > 0), 600));")
            assert playing, "the first stimulus did not play"
            for slider in driver.find_elements(By.CSS_SELECTOR, "input.score"):
                _set_slider(driver, slider, wanted[system_of[slider.get_attribute("data-id")]])
            if trial == 1:
                driver.refresh()  # a reload loses nothing
                assert "trial 2 of 3" in driver.find_element(By.ID, "progress").text
                values = [int(s.get_attribute("value"))
                          for s in driver.find_elements(By.CSS_SELECTOR, "input.score")]
                assert sorted(values) == sorted(wanted.values())
            driver.find_element(By.ID, "next").click()
        answers = json.loads(driver.find_element(By.ID, "answers-json").get_attribute("value"))
        driver.save_screenshot(str(tmp_path / "finished.png"))
    finally:
        driver.quit()
    assert answers["listener"] == "tester" and len(answers["answers"]) == 3
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    summary = summarise(page.parent, [tmp_path / "answers.json"])
    means = {row["system"]: row["mean"] for row in summary.table}
    assert means == {name: float(score) for name, score in wanted.items()}


def test_ab_page_records_choices(tmp_path):
    from selenium.webdriver.common.by import By

    from aural.listening.build import build_test, items_from_folders
    from aural.listening.results import summarise

    folders = _folders(tmp_path)
    items = items_from_folders({"aural": folders["aural"]}, None, folders["in"])
    page = build_test(items, tmp_path / "test", kind="ab", seed=1)
    key = json.loads((page.parent / "key.json").read_text())
    driver = _browser()
    try:
        driver.get(page.as_uri())
        driver.find_element(By.ID, "listener").send_keys("ab tester")
        driver.find_element(By.ID, "start").click()
        for trial in range(3):
            ids = [b.get_attribute("data-play") for b in
                   driver.find_elements(By.CSS_SELECTOR, "[data-play]")]
            assert ids == ["A", "B"]
            trial_id = f"t{trial + 1:02d}"
            side = next(e["side"] for k, e in key["ids"].items()
                        if k.startswith(trial_id) and e["system"] == "aural")
            driver.find_element(By.ID, f"choice-{side}").click()  # always prefer AURAL
            driver.find_element(By.ID, "next").click()
        answers = json.loads(driver.find_element(By.ID, "answers-json").get_attribute("value"))
    finally:
        driver.quit()
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    row = summarise(page.parent, [tmp_path / "answers.json"]).table[0]
    assert row["first"] == "aural" and row["first_preferred"] == 3 and row["second_preferred"] == 0
    assert row["p_value"] == pytest.approx(0.25)
