// AURAL blind listening test: A/B preference or MUSHRA (ITU-R BS.1534). Runs from disk;
// answers are kept in localStorage as the listener goes and saved as JSON at the end.
(function () {
  "use strict";
  const T = window.AURAL_TEST;
  const KEY = "aural-listen-" + T.test_id;
  const app = document.getElementById("app");
  const player = document.getElementById("player");
  let state = load();

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || fresh(); } catch (e) { return fresh(); }
  }
  function fresh() {
    return { listener: "", index: 0, answers: {}, started_at: new Date().toISOString() };
  }
  function save() { localStorage.setItem(KEY, JSON.stringify(state)); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  // ---- audio: one player; switching keeps the position, so versions compare seamlessly
  let playingLabel = "";
  function play(file, label) {
    const position = player.currentTime || 0;
    const sameFile = player.getAttribute("src") === file;
    if (!sameFile) { player.setAttribute("src", file); }
    player.currentTime = sameFile ? position : Math.min(position, 600);
    const start = loopStart();
    if (loopOn() && (player.currentTime < start || player.currentTime >= loopEnd())) player.currentTime = start;
    player.play().catch(() => {});
    playingLabel = label;
    document.getElementById("now-playing").textContent = "playing: " + label;
    document.querySelectorAll("button.playing").forEach((b) => b.classList.remove("playing"));
    const button = document.querySelector(`[data-play="${label}"]`);
    if (button) button.classList.add("playing");
  }
  function stop() {
    player.pause();
    document.getElementById("now-playing").textContent = "stopped";
    document.querySelectorAll("button.playing").forEach((b) => b.classList.remove("playing"));
  }
  function loopOn() { return document.getElementById("loop-on").checked; }
  function loopStart() { return parseFloat(document.getElementById("loop-start").value) || 0; }
  function loopEnd() {
    const end = parseFloat(document.getElementById("loop-end").value) || 0;
    return end > loopStart() ? end : (player.duration || Infinity);
  }
  player.addEventListener("timeupdate", () => {
    if (loopOn() && player.currentTime >= loopEnd()) { player.currentTime = loopStart(); }
  });
  document.getElementById("stop").addEventListener("click", stop);

  // ---- screens
  function render() {
    stop();
    app.innerHTML = "";
    document.getElementById("title").textContent = T.title;
    const total = T.trials.length;
    document.getElementById("progress").textContent =
      state.listener ? `trial ${Math.min(state.index + 1, total)} of ${total}` : "";
    if (!state.listener) return welcome();
    if (state.index >= total) return finish();
    const trial = T.trials[state.index];
    if (T.kind === "mushra") mushra(trial); else ab(trial);
  }

  function welcome() {
    const name = el("input", { id: "listener", placeholder: "your name or initials" });
    app.append(
      el("p", { text: T.kind === "mushra"
        ? "Each page has a reference and several versions of the same recording. Score each version from 0 (bad) to 100 (excellent) against the reference; one of them is the reference itself. Keys: R plays the reference, 1-9 the versions, space stops."
        : "Each page has two versions, A and B, of the same recording. Choose the one that sounds better, or no preference. Keys: A and B play, 1 chooses A, 2 chooses B, 0 no preference." }),
      el("p", { class: "help", text: "Use headphones in a quiet room. Your answers are kept in this browser as you go; at the end they are saved as a file." }),
      el("div", { class: "row" }, [name, el("button", { id: "start", text: "start", onclick: () => {
        if (!name.value.trim()) { name.focus(); return; }
        state.listener = name.value.trim(); save(); render();
      } })]));
  }

  function nav(ready) {
    return el("div", { class: "nav" }, [
      el("button", { id: "prev", text: "previous", onclick: () => { if (state.index > 0) { state.index--; save(); render(); } } }),
      el("button", { id: "next", text: state.index + 1 === T.trials.length ? "finish" : "next",
                     onclick: () => { if (!ready()) return; state.index++; save(); render(); } })]);
  }

  function mushra(trial) {
    const answer = state.answers[trial.trial] || (state.answers[trial.trial] = { scores: {} });
    app.append(el("div", { class: "row" }, [
      el("button", { id: "play-ref", "data-play": "reference", text: "reference (R)",
                     onclick: () => play(trial.reference, "reference") })]));
    trial.stimuli.forEach((s, k) => {
      const value = answer.scores[s.id] !== undefined ? answer.scores[s.id] : 0;
      const shown = el("span", { class: "score-value", text: String(value) });
      const slider = el("input", { type: "range", min: "0", max: "100", step: "1", value: String(value),
                                   class: "score", "data-id": s.id });
      slider.addEventListener("input", () => { shown.textContent = slider.value;
        answer.scores[s.id] = parseInt(slider.value, 10); save(); });
      app.append(el("div", { class: "row stimulus", "data-id": s.id }, [
        el("button", { "data-play": String(k + 1), text: `play ${k + 1}`, onclick: () => play(s.file, String(k + 1)) }),
        slider, shown]));
    });
    app.append(nav(() => true));
  }

  function ab(trial) {
    const answer = state.answers[trial.trial] || (state.answers[trial.trial] = {});
    const choose = (choice) => () => { answer.choice = choice; save(); render(); };
    const [a, b] = trial.stimuli;
    app.append(
      el("div", { class: "row" }, [
        el("button", { "data-play": "A", text: "play A", onclick: () => play(a.file, "A") }),
        el("button", { "data-play": "B", text: "play B", onclick: () => play(b.file, "B") })]),
      el("div", { class: "row" }, ["A", "B", "none"].map((c) => el("button", {
        id: "choice-" + c, class: answer.choice === c ? "chosen" : "",
        text: c === "none" ? "no preference" : `${c} is better`, onclick: choose(c) }))));
    app.append(nav(() => Boolean(answer.choice)));
  }

  function results() {
    return {
      test_id: T.test_id, kind: T.kind, listener: state.listener,
      started_at: state.started_at, finished_at: new Date().toISOString(),
      answers: T.trials.map((t) => Object.assign({ trial: t.trial }, state.answers[t.trial] || {})),
    };
  }

  function finish() {
    const json = JSON.stringify(results(), null, 1);
    const blob = new Blob([json], { type: "application/json" });
    const name = `answers-${T.test_id}-${state.listener.replace(/[^A-Za-z0-9_-]+/g, "_")}.json`;
    app.append(
      el("p", { text: "Thank you! Save your answers and send the file to whoever runs the test." }),
      el("a", { id: "download", href: URL.createObjectURL(blob), download: name, text: "save " + name }),
      el("p", { class: "help", text: "(or copy the text below)" }),
      el("textarea", { id: "answers-json", readonly: "readonly" }, [document.createTextNode(json)]),
      el("div", { class: "nav" }, [el("button", { id: "prev", text: "back", onclick: () => { state.index--; save(); render(); } })]));
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" && event.target.type !== "range") return;
    const trial = T.trials[state.index];
    if (!state.listener || !trial) return;
    const key = event.key.toLowerCase();
    if (key === " ") { event.preventDefault(); if (player.paused) player.play().catch(() => {}); else stop(); }
    else if (key === "arrowright" || key === "enter") document.getElementById("next").click();
    else if (key === "arrowleft") document.getElementById("prev").click();
    else if (T.kind === "mushra" && key === "r") play(trial.reference, "reference");
    else if (T.kind === "mushra" && /^[1-9]$/.test(key) && trial.stimuli[+key - 1]) play(trial.stimuli[+key - 1].file, key);
    else if (T.kind === "ab" && (key === "a" || key === "b")) play(trial.stimuli[key === "a" ? 0 : 1].file, key.toUpperCase());
    else if (T.kind === "ab" && ["1", "2", "0"].includes(key)) document.getElementById("choice-" + { 1: "A", 2: "B", 0: "none" }[key]).click();
  });

  render();
})();
